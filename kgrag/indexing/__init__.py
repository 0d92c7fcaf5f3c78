"""The indexing stage: what writing a document means (skip unchanged, write vectors and
graph, mark complete, drop old versions, resolve entities, reconcile), and file discovery."""
