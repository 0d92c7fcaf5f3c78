"""Rank fusion: reciprocal rank fusion and weighted (min-max normalised) score fusion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from kgrag.core.types import Hit


class FusionMethod(StrEnum):
    RRF = "rrf"
    WEIGHTED = "weighted"


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[Hit]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[Hit]:
    """score(d) = sum over lists of weight / (k + rank(d)); ranks start at 1."""
    scores: dict[str, float] = {}
    sources: dict[str, list[str]] = {}
    for name, ranked in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, item in enumerate(ranked, start=1):
            scores[item.chunk_id] = scores.get(item.chunk_id, 0.0) + weight / (k + rank)
            sources.setdefault(item.chunk_id, []).append(name)
    return _sorted(scores, sources)


def weighted_score_fusion(
    rankings: Mapping[str, Sequence[Hit]], weights: Mapping[str, float] | None = None
) -> list[Hit]:
    """Scores min-max normalised per list, then summed with weights (absent = 1)."""
    scores: dict[str, float] = {}
    sources: dict[str, list[str]] = {}
    for name, ranked in rankings.items():
        if not ranked:
            continue
        weight = (weights or {}).get(name, 1.0)
        values = [r.score for r in ranked]
        low, high = min(values), max(values)
        span = high - low
        for item in ranked:
            norm = (item.score - low) / span if span > 0 else 1.0
            scores[item.chunk_id] = scores.get(item.chunk_id, 0.0) + weight * norm
            sources.setdefault(item.chunk_id, []).append(name)
    return _sorted(scores, sources)


def fuse(
    rankings: Mapping[str, Sequence[Hit]],
    method: FusionMethod = FusionMethod.RRF,
    weights: Mapping[str, float] | None = None,
    rrf_k: int = 60,
) -> list[Hit]:
    if method is FusionMethod.RRF:
        return reciprocal_rank_fusion(rankings, rrf_k, weights)
    return weighted_score_fusion(rankings, weights)


def _sorted(scores: dict[str, float], sources: dict[str, list[str]]) -> list[Hit]:
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))
    return [Hit(cid, scores[cid], "+".join(sources[cid])) for cid in order]
