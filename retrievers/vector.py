"""Dense and keyword retrievers over the `VectorIndex`, ranked per reader chunk.

Several embedded units can point at one chunk (two-level index): a chunk keeps the best
score of its units. Each list is over-fetched so that deduplication still fills `k`.
"""

from __future__ import annotations

import numpy as np

from retrievers.fuse import Ranked
from retrievers.vector_index import VectorHit, VectorIndex

OVERFETCH = 3


def _per_chunk(hits: list[VectorHit], source: str, k: int) -> list[Ranked]:
    best: dict[str, float] = {}
    for hit in hits:
        if hit.score > best.get(hit.chunk_id, float("-inf")):
            best[hit.chunk_id] = hit.score
    order = sorted(best, key=lambda cid: -best[cid])[:k]
    return [Ranked(cid, best[cid], source) for cid in order]


def dense_search(index: VectorIndex, vector: np.ndarray, k: int) -> list[Ranked]:
    return _per_chunk(index.search_dense(vector, k * OVERFETCH), "dense", k)


def keyword_search(index: VectorIndex, text: str, k: int) -> list[Ranked]:
    return _per_chunk(index.search_keyword(text, k * OVERFETCH), "keyword", k)
