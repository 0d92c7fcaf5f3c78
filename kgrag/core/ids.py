"""Identifiers that must survive re-runs: documents, chunks and paths.

A document id is a hash of its normalised path and content hash, so a changed file gets
a new id and an unchanged one keeps its id; a chunk id is its document id plus its index.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def stable_hash(*parts: str, length: int = 16) -> str:
    """Short, deterministic hex digest of the joined parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def normalised_path(path: str | Path) -> str:
    """Absolute POSIX form of a path: the path part of a document id."""
    return Path(path).expanduser().resolve().as_posix()


def document_id(path: str, sha256: str) -> str:
    return stable_hash(path, sha256)


def chunk_id(doc_id: str, idx: int) -> str:
    return f"{doc_id}:{idx}"


def doc_id_of_chunk(chunk: str) -> str:
    """The document id part of a chunk id."""
    return chunk.rsplit(":", 1)[0]


def is_under(path: str, folder: str) -> bool:
    """Whether normalised `path` is `folder` itself or inside it, by whole path components
    (`/x/notes-old/a.md` is not under `/x/notes`)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")
