"""Entity resolution: SAME_AS edges between entities whose names mean the same thing.

Exact resolution happens at write time through the normalised entity key (MERGE on
`key`). Near-synonyms ("Alpha" / "Alpha Corp") are found by an entity-name index that
the graph does not own: `EntityNameIndex` says what kg needs from it, and the retrieval
stage implements it (it owns the vector collections and the embedder).

An entity is *resolved* once its name is in the index and its SAME_AS edges are written;
the flag is set last, so a run interrupted half-way leaves unresolved entities that the
next run resolves, however the files it sees have changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
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
) -> int:
    """Drop index entries of entities the graph no longer has, index every unresolved
    entity, then link each to its nearest names above `threshold` with SAME_AS edges.
    Every name is embedded (in one call: the model's own batching sorts by length, so its
    float noise would otherwise depend on our batches) and indexed before any is
    searched, so the edges do not depend on how the work is cut. The cost grows with the
    change, not with all pairs. Returns the number of entities resolved."""
    gone = index.keys() - graph.entity_keys()
    index.remove(sorted(gone))
    pending = graph.unresolved_entities()
    vectors = index.add({e.key: e.name for e in pending})
    for start in range(0, len(pending), RESOLVE_BATCH):
        batch = pending[start : start + RESOLVE_BATCH]
        pairs: dict[tuple[str, str], float] = {}
        found = index.nearest(vectors[start : start + RESOLVE_BATCH], neighbours + 1, threshold)
        for entity, matches in zip(batch, found, strict=True):
            for other, score in matches:
                if other != entity.key:
                    a, b = sorted((entity.key, other))
                    pairs[(a, b)] = max(score, pairs.get((a, b), 0.0))
        graph.upsert_same_as([(a, b, s) for (a, b), s in pairs.items()])
        graph.mark_resolved([e.key for e in batch])
    return len(pending)
