"""Typed records of what the graph returns, so no caller indexes a row by string.

`kg.GraphStore` builds them from its query rows; every other layer reads their fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kgrag.core.types import Lang


@dataclass(frozen=True)
class DocumentRecord:
    id: str
    path: str
    title: str
    lang: Lang
    sha256: str
    complete: bool
    # The file as it was read: a file with both still the same is not read again.
    size: int | None = field(default=None, kw_only=True)
    mtime_ns: int | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with the path and title of its document (what a reader is shown)."""

    id: str
    doc_id: str
    text: str
    level: int
    span: tuple[int, int]
    path: str
    title: str


@dataclass(frozen=True)
class EntityRecord:
    key: str
    name: str
    type: str
    mention_count: int
    is_hub: bool


@dataclass(frozen=True)
class DocumentStats(DocumentRecord):
    """A document with its chunk count and the distinct entities its chunks mention."""

    chunks: int
    entities: int
