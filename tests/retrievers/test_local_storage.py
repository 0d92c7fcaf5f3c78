"""Qdrant local mode's SQLite files commit in WAL mode (`retrievers.local_storage`)."""

import sqlite3
from pathlib import Path

import numpy as np
from qdrant_client import QdrantClient, models

from kgrag.retrievers.vector_index import UnitRecord, VectorIndex, close_shared_clients


def _journal_modes(folder: Path) -> dict[str, str]:
    """Per collection file, the journal mode SQLite keeps in it (read from outside)."""
    modes = {}
    for file in sorted(folder.glob("collection/*/storage.sqlite")):
        with sqlite3.connect(file) as connection:
            modes[file.parent.name] = connection.execute("PRAGMA journal_mode").fetchone()[0]
    return modes


def test_collections_opened_or_created_commit_in_wal_mode_and_keep_their_points(
    tmp_path: Path,
):
    folder = tmp_path / "qdrant"
    plain = QdrantClient(path=str(folder))  # Qdrant's own defaults
    plain.create_collection(
        "older", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE)
    )
    plain.close()
    assert _journal_modes(folder) == {"older": "delete"}

    index = VectorIndex("ls", path=folder)  # opens "older"
    assert _journal_modes(folder) == {"older": "wal"}
    index.ensure(4)  # creates this workspace's collections
    unit = UnitRecord("a:0", "a:0", "a", "Marie Curie discovered polonium.", "a", "en")
    index.upsert_units([unit], np.eye(1, 4, dtype=np.float32))
    close_shared_clients(folder)
    assert _journal_modes(folder) == {
        "kgrag_ls_chunks": "wal",
        "kgrag_ls_entities": "wal",
        "older": "wal",
    }
    assert VectorIndex("ls", path=folder).unit_chunks() == {"a:0": "a"}  # committed
    close_shared_clients(folder)
