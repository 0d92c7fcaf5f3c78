"""Dense and keyword retrievers over the `VectorIndex`, ranked per reader chunk.

Several embedded units can point at one chunk (two-level index): a chunk keeps the best
score of its units. Each list is over-fetched so that deduplication still fills `k`.
"""

from __future__ import annotations

from typing import ClassVar

from kgrag.core.types import Hit
from kgrag.retrievers.base import Query, Ranking, SubRetriever
from kgrag.retrievers.vector_index import VectorIndex

OVERFETCH = 3


def best_per_chunk(hits: list[Hit], k: int) -> list[Hit]:
    best: dict[str, Hit] = {}
    for hit in hits:
        if hit.chunk_id not in best or hit.score > best[hit.chunk_id].score:
            best[hit.chunk_id] = hit
    return sorted(best.values(), key=lambda h: -h.score)[:k]


class DenseRetriever(SubRetriever):
    name: ClassVar[str] = "dense"

    def __init__(self, vectors: VectorIndex) -> None:
        self.vectors = vectors

    def retrieve(self, query: Query, k: int) -> Ranking:
        return Ranking(best_per_chunk(self.vectors.search_dense(query.vector(), k * OVERFETCH), k))


class KeywordRetriever(SubRetriever):
    name: ClassVar[str] = "keyword"

    def __init__(self, vectors: VectorIndex) -> None:
        self.vectors = vectors

    def retrieve(self, query: Query, k: int) -> Ranking:
        return Ranking(best_per_chunk(self.vectors.search_keyword(query.text, k * OVERFETCH), k))
