"""How Qdrant local mode commits its writes to disk.

Local mode keeps each collection in an SQLite file and commits every point in a
transaction of its own, with SQLite's defaults: a rollback journal and an fsync per
commit. On this machine's disk that is ~11 ms a point, so the ~20k chunk and entity-name
points of 2,000 passages waited minutes on the disk. In WAL mode with
`synchronous=NORMAL` a commit waits for no fsync (0.24 ms a point). A crash of the process
still loses nothing; a power loss may roll back the last commits, the guarantee the graph
has too (FalkorDB's `appendfsync everysec`), and `kgrag doctor --repair` indexes again
the documents whose vectors were lost.

This reaches into qdrant-client's local-mode objects (the version is pinned); where they
are not what it expects, it does nothing and writes are only slower.
"""

from __future__ import annotations

import sqlite3
from typing import Any


def commit_without_fsync(client: Any) -> None:
    """WAL and `synchronous=NORMAL` on the SQLite file of every collection a local-mode
    `QdrantClient` has open (again for one already set: harmless)."""
    collections = getattr(getattr(client, "_client", None), "collections", None)
    for collection in (collections or {}).values():
        connection = getattr(getattr(collection, "storage", None), "storage", None)
        if isinstance(connection, sqlite3.Connection):
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
