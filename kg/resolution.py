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

if TYPE_CHECKING:
    from kgrag.kg.store import GraphStore

SAME_AS_THRESHOLD = 0.8  # cosine, as in HippoRAG's synonym edges
SAME_AS_NEIGHBOURS = 5
RESOLVE_BATCH = 2_000  # entities per index write and SAME_AS search


class EntityNameIndex(Protocol):
    """What entity resolution needs from the entity-name index."""

    def keys(self) -> set[str]:
        """Every entity key the index holds."""
        ...

    def remove(self, keys: Sequence[str]) -> None: ...

    def add_and_match(
        self, names: Mapping[str, str], k: int, threshold: float
    ) -> list[list[tuple[str, float]]]:
        """Store `names` (key -> name), then for each of them, in order, the keys of the
        `k` nearest stored names above `threshold` with their scores."""
        ...


def resolve_entities(
    graph: GraphStore,
    index: EntityNameIndex,
    threshold: float = SAME_AS_THRESHOLD,
    neighbours: int = SAME_AS_NEIGHBOURS,
) -> int:
    """Drop index entries of entities the graph no longer has, then index every
    unresolved entity and link it to its nearest names above `threshold` with SAME_AS
    edges. The cost grows with the change, not with all pairs. Returns the number of
    entities resolved."""
    gone = index.keys() - graph.entity_keys()
    index.remove(sorted(gone))
    pending = graph.unresolved_entities()
    for start in range(0, len(pending), RESOLVE_BATCH):
        batch = pending[start : start + RESOLVE_BATCH]
        names = {e.key: e.name for e in batch}
        pairs: dict[tuple[str, str], float] = {}
        for key, found in zip(names, index.add_and_match(names, neighbours + 1, threshold)):
            for other, score in found:
                if other != key:
                    a, b = sorted((key, other))
                    pairs[(a, b)] = max(score, pairs.get((a, b), 0.0))
        graph.upsert_same_as([(a, b, s) for (a, b), s in pairs.items()])
        graph.mark_resolved(list(names))
    return len(pending)
