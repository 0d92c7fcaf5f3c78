"""Entity resolution: tying triple arguments to entities, and synonym (SAME_AS) pairs.

Exact resolution happens at write time through the normalised entity key (MERGE on
`key`). Triples carry argument text; an argument becomes a graph relation only when it
contains the name of an entity mentioned in the same chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kgrag.types import ChunkAnnotations, Entity, Triple

if TYPE_CHECKING:
    from kg.store import GraphStore


def _name_pattern(name: str) -> re.Pattern[str]:
    """Whole-word match where the name starts/ends with a Latin letter or digit ("US" must
    not match inside "business"); plain substring for CJK edges, which have no spaces."""
    folded = re.escape(name.casefold())
    head = r"(?<![0-9a-z])" if name[:1].isascii() and name[:1].isalnum() else ""
    tail = r"(?![0-9a-z])" if name[-1:].isascii() and name[-1:].isalnum() else ""
    return re.compile(head + folded + tail)


def _entity_in(text: str | None, entities: list[Entity]) -> str | None:
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
        src = _entity_in(triple.arg0, ann.entities)
        dst = _entity_in(triple.arg1, ann.entities)
        if src and dst and src != dst:
            yield src, dst, triple


class EntityVectorIndex(Protocol):
    """The part of the vector index that entity resolution needs (retrievers.VectorIndex)."""

    def entity_keys(self) -> set[str]: ...

    def upsert_entities(
        self, keys: Sequence[str], names: Sequence[str], vectors: np.ndarray
    ) -> None: ...

    def delete_entities(self, keys: Sequence[str]) -> None: ...

    def search_entities(
        self, vectors: np.ndarray, k: int, threshold: float
    ) -> list[list[tuple[str, float]]]: ...


SAME_AS_THRESHOLD = 0.8  # cosine, as in HippoRAG's synonym edges
SAME_AS_NEIGHBOURS = 5


def sync_entity_vectors(
    graph: GraphStore,
    index: EntityVectorIndex,
    embed: Callable[[list[str]], np.ndarray],
    threshold: float = SAME_AS_THRESHOLD,
    neighbours: int = SAME_AS_NEIGHBOURS,
) -> int:
    """Bring the entity-name vectors in line with the graph, then link each new entity to
    its nearest existing names above `threshold` with SAME_AS edges. Only new entities
    are searched (top-k each), so the cost grows with the change, not with all pairs.
    Returns the number of new entities."""
    rows = {r["key"]: r for r in graph.all_entities()}
    indexed = index.entity_keys()
    index.delete_entities(sorted(indexed - rows.keys()))
    new_keys = sorted(rows.keys() - indexed)
    if not new_keys:
        return 0
    names = [str(rows[k]["name"]) for k in new_keys]
    vectors = embed(names)
    index.upsert_entities(new_keys, names, vectors)
    pairs: dict[tuple[str, str], float] = {}
    for key, found in zip(new_keys, index.search_entities(vectors, neighbours + 1, threshold)):
        for other, score in found:
            if other != key:
                a, b = sorted((key, other))
                pairs[(a, b)] = max(score, pairs.get((a, b), 0.0))
    graph.upsert_same_as([(a, b, s) for (a, b), s in pairs.items()])
    return len(new_keys)
