"""Retrieval: Qdrant vector index, query analysis and linking, retrievers and fusion."""
