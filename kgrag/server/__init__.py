"""`kgrag serve`: one process that owns the stores and the models and answers everyone
(HTTP API), and the remote client that talks to it."""
