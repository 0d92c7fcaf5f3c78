"""Entity resolution: SAME_AS edges between entities whose names mean the same thing.

Exact resolution happens at write time through the normalised entity key (MERGE on
`key`). Near-synonyms ("Alpha" / "Alpha Corp") are found by an entity-name index that
the graph does not own: `EntityNameIndex` says what kg needs from it, and the retrieval
stage implements it (it owns the vector collections and the embedder).

A match becomes an edge only where the embedder read both names (`kg.same_as_rules`).

An entity is *resolved* once its name is in the index and its SAME_AS edges are written;
the flag is set last, so a run interrupted half-way leaves unresolved entities that the
next run resolves, however the files it sees have changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kgrag.kg.same_as_rules import same_as_allowed, unreadable

if TYPE_CHECKING:
    from kgrag.core.records import EntityRecord
    from kgrag.kg.store import GraphStore

SAME_AS_THRESHOLD = 0.8  # cosine, as in HippoRAG's synonym edges
SAME_AS_NEIGHBOURS = 5
RESOLVE_BATCH = 2_000  # entities per SAME_AS search and write


class EntityNameIndex(Protocol):
    """What entity resolution needs from the entity-name index."""

    def keys(self) -> set[str]:
        """Every entity key the index holds."""
        ...

    def remove(self, keys: Sequence[str]) -> None: ...

    def add(self, names: Mapping[str, str]) -> np.ndarray:
        """Store `names` (key -> name); their vectors, in order."""
        ...

    def nearest(
        self, vectors: np.ndarray, k: int, threshold: float
    ) -> list[list[tuple[str, float]]]:
        """For each vector, the keys of the `k` nearest stored names above `threshold`."""
        ...


def resolve_entities(
    graph: GraphStore,
    index: EntityNameIndex,
    threshold: float = SAME_AS_THRESHOLD,
    neighbours: int = SAME_AS_NEIGHBOURS,
    *,
    reads_han: bool = False,
    prune: bool = True,
    pending: Sequence[EntityRecord] | None = None,
) -> int:
    """Drop index entries of entities the graph no longer has, index every unresolved
    entity, then link each to its nearest names above `threshold` with SAME_AS edges,
    keeping the matches `kg.same_as_rules` allows (`reads_han`: the embedder tells
    Chinese names apart). Every name is embedded (in one call: the model's own batching
    sorts by length, so its float noise would otherwise depend on our batches) and indexed
    before any is searched, so the edges do not depend on how the work is cut. The cost
    grows with the change, not with all pairs. Returns the number of entities resolved.
    `prune=False` skips the first step, which reads every key of both; `pending`: the
    graph's unresolved entities, when the caller has just read them."""
    if prune:
        index.remove(sorted(index.keys() - graph.entity_keys()))
    if pending is None:
        pending = graph.unresolved_entities()
    vectors = index.add({e.key: e.name for e in pending})
    for start in range(0, len(pending), RESOLVE_BATCH):
        batch = pending[start : start + RESOLVE_BATCH]
        found = index.nearest(vectors[start : start + RESOLVE_BATCH], neighbours + 1, threshold)
        pairs = _pairs([e.key for e in batch], found)
        unread = {
            e.key for e, matches in zip(batch, found, strict=True) if unreadable(matches, e.key)
        }
        names = {e.key: e.name for e in batch}
        others = {k for pair in pairs for k in pair} - names.keys()
        names |= {k: e.name for k, e in graph.entities(sorted(others)).items()}
        graph.upsert_same_as(
            [
                (a, b, score)
                for (a, b), score in pairs.items()
                if a in names
                and b in names
                and not {a, b} & unread
                and same_as_allowed(names[a], names[b], reads_han=reads_han)
            ]
        )
        graph.mark_resolved([e.key for e in batch])
    return len(pending)


def _pairs(
    keys: Sequence[str], found: Sequence[Sequence[tuple[str, float]]]
) -> dict[tuple[str, str], float]:
    """Each unordered pair of an entity and a match of it, with its best score."""
    pairs: dict[tuple[str, str], float] = {}
    for key, matches in zip(keys, found, strict=True):
        for other, score in matches:
            if other != key:
                a, b = sorted((key, other))
                pairs[(a, b)] = max(score, pairs.get((a, b), 0.0))
    return pairs
