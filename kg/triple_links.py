"""Tying triple arguments to entities: a triple becomes a graph relation only when its
ARG0 and ARG1 each name an entity mentioned in the same chunk."""

from __future__ import annotations

import re
from collections.abc import Iterator

from kgrag.core.types import ChunkAnnotations, Entity, Triple


def _name_pattern(name: str) -> re.Pattern[str]:
    """Whole-word match where the name starts/ends with a Latin letter or digit ("US" must
    not match inside "business"); plain substring for CJK edges, which have no spaces."""
    folded = re.escape(name.casefold())
    head = r"(?<![0-9a-z])" if name[:1].isascii() and name[:1].isalnum() else ""
    tail = r"(?![0-9a-z])" if name[-1:].isascii() and name[-1:].isalnum() else ""
    return re.compile(head + folded + tail)


def entity_in(text: str | None, entities: list[Entity]) -> str | None:
    """Key of the longest entity name found in `text` (case-insensitive), if any."""
    if not text:
        return None
    folded = text.casefold()
    best: Entity | None = None
    for ent in entities:
        if not ent.name or (best is not None and len(ent.name) <= len(best.name)):
            continue
        if _name_pattern(ent.name).search(folded):
            best = ent
    return best.key if best else None


def link_triples(ann: ChunkAnnotations) -> Iterator[tuple[str, str, Triple]]:
    """(source key, target key, triple) for triples whose ARG0 and ARG1 name entities."""
    for triple in ann.triples:
        src = entity_in(triple.arg0, ann.entities)
        dst = entity_in(triple.arg1, ann.entities)
        if src and dst and src != dst:
            yield src, dst, triple
