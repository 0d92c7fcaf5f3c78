"""Rank fusion: reciprocal rank fusion and weighted (min-max normalised) score fusion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Ranked:
    """A chunk id with a score, as every retriever returns them (best first)."""

    chunk_id: str
    score: float
    source: str


class FusionMethod(StrEnum):
    RRF = "rrf"
    WEIGHTED = "weighted"

    @classmethod
    def from_str(cls, value: str) -> FusionMethod:
        try:
            return cls(value.lower())
        except ValueError as exc:
            raise ValueError(f"unknown fusion {value!r}: use rrf or weighted") from exc


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[Ranked]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[Ranked]:
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
    rankings: Mapping[str, Sequence[Ranked]], weights: Mapping[str, float] | None = None
) -> list[Ranked]:
    """Scores min-max normalised per list, then summed with weights (absent = 0)."""
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
    rankings: Mapping[str, Sequence[Ranked]],
    method: FusionMethod = FusionMethod.RRF,
    weights: Mapping[str, float] | None = None,
    rrf_k: int = 60,
) -> list[Ranked]:
    if method is FusionMethod.RRF:
        return reciprocal_rank_fusion(rankings, rrf_k, weights)
    return weighted_score_fusion(rankings, weights)


def _sorted(scores: dict[str, float], sources: dict[str, list[str]]) -> list[Ranked]:
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))
    return [Ranked(cid, scores[cid], "+".join(sources[cid])) for cid in order]
