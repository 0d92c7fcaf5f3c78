"""Retrieval metrics over ranked passage ids, and SQuAD-style answer metrics.

Ranked lists are deduplicated (first occurrence wins) before scoring, so `k` always
counts distinct passages even when a retriever returns several chunks of one passage.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from typing import Any

import numpy as np

from kgrag.core.text import HAN, HAN_CHAR


def _dedupe(ranked: list[str]) -> list[str]:
    return list(dict.fromkeys(ranked))


def _gold(supporting: list[str]) -> set[str]:
    gold = set(supporting)
    if not gold:
        raise ValueError("a question needs at least one supporting passage id")
    return gold


def recall_at_k(ranked: list[str], supporting: list[str], k: int) -> float:
    """Share of the supporting passages found in the top k (HippoRAG's Recall@k)."""
    gold = _gold(supporting)
    return len(gold.intersection(_dedupe(ranked)[:k])) / len(gold)


def all_found_at_k(ranked: list[str], supporting: list[str], k: int) -> float:
    """1.0 when every supporting passage is in the top k, else 0.0."""
    return 1.0 if _gold(supporting) <= set(_dedupe(ranked)[:k]) else 0.0


def mrr(ranked: list[str], supporting: list[str]) -> float:
    """Reciprocal rank of the first supporting passage (0.0 if none); averaged, the MRR."""
    gold = _gold(supporting)
    for rank, pid in enumerate(_dedupe(ranked), start=1):
        if pid in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: list[str], supporting: list[str], k: int) -> float:
    """NDCG@k with binary relevance: each supporting passage has gain 1."""
    gold = _gold(supporting)
    dcg = sum(
        1.0 / math.log2(rank + 1)
        for rank, pid in enumerate(_dedupe(ranked)[:k], start=1)
        if pid in gold
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal


def ranks_of_supporting(ranked: list[str], supporting: list[str]) -> list[int | None]:
    """1-based rank of each supporting passage, in `supporting` order; None if not retrieved."""
    positions = {pid: rank for rank, pid in enumerate(_dedupe(ranked), start=1)}
    return [positions.get(pid) for pid in supporting]


def summarize(
    per_question: list[tuple[list[str], list[str]]], ks: list[int], latencies_ms: list[float]
) -> dict[str, Any]:
    """Average the per-question metrics over (ranked, supporting) pairs.

    Returns exactly {"recall@K", "all_found@K" for each K, "mrr", "ndcg@10",
    "latency_ms": {"p50", "p95"}}, all plain floats; recall-type values are in 0..1.
    """
    if not per_question:
        raise ValueError("no questions to summarize")
    if not latencies_ms:
        raise ValueError("no latencies to summarize")
    result: dict[str, Any] = {}
    for k in ks:
        result[f"recall@{k}"] = _mean([recall_at_k(r, s, k) for r, s in per_question])
    for k in ks:
        result[f"all_found@{k}"] = _mean([all_found_at_k(r, s, k) for r, s in per_question])
    result["mrr"] = _mean([mrr(r, s) for r, s in per_question])
    result["ndcg@10"] = _mean([ndcg_at_k(r, s, 10) for r, s in per_question])
    p50, p95 = np.percentile(np.asarray(latencies_ms, dtype=np.float64), [50, 95])
    result["latency_ms"] = {"p50": float(p50), "p95": float(p95)}
    return result


def _mean(values: list[float]) -> float:
    return float(sum(values) / len(values))


# --- answer metrics -------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# One token per CJK character (Chinese answers have no spaces), else a run of other text.
_TOKEN = re.compile(f"[{HAN}]|[^\\s{HAN}]+")


def _is_punct(ch: str) -> bool:
    # string.punctuation covers ASCII symbols such as $ and +; categories P* cover "，。《》".
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, drop punctuation and English articles, squash spaces."""
    text = "".join(ch for ch in text.lower() if not _is_punct(ch))
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_tokens(text: str) -> list[str]:
    """Normalised tokens: whitespace-separated words, with each CJK character on its own."""
    return _TOKEN.findall(normalize_answer(text))


def answer_chars(text: str) -> list[str]:
    """Every character of the normalised text but spaces (the CMRC way of scoring)."""
    return [ch for ch in normalize_answer(text) if not ch.isspace()]


def _units(pred: str, gold: str) -> tuple[list[str], list[str]]:
    """The units both answers are compared in, chosen by the gold answer: characters when
    it has Chinese (so "第28届" and "第 28 届" agree, and a digit counts like a Han
    character), words otherwise."""
    tokens = answer_chars if HAN_CHAR.search(gold) else answer_tokens
    return tokens(pred), tokens(gold)


def exact_match(pred: str, gold: str) -> float:
    """1.0 when the normalised answers are identical, else 0.0."""
    pred_units, gold_units = _units(pred, gold)
    return 1.0 if pred_units == gold_units else 0.0


def token_f1(pred: str, gold: str) -> float:
    """SQuAD token-overlap F1 (character overlap for a Chinese gold answer); two empty
    answers score 1.0, one empty answer 0.0."""
    pred_tokens, gold_tokens = _units(pred, gold)
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def contains_answer(text: str, gold: str) -> bool:
    """Whether the gold answer appears in `text`, both normalised (spaces ignored for a
    Chinese gold answer): the evidence held the answer, whatever else it said."""
    if HAN_CHAR.search(gold):
        return "".join(answer_chars(gold)) in "".join(answer_chars(text))
    needle = " ".join(answer_tokens(gold))
    return bool(needle) and f" {needle} " in f" {' '.join(answer_tokens(text))} "


# --- refusal calibration ----------------------------------------------------------------


def share_below(values: list[float], threshold: float) -> float:
    """Share of `values` under `threshold`: the questions a refusal threshold refuses."""
    if not values:
        raise ValueError("no values")
    return sum(v < threshold for v in values) / len(values)


def refusal_threshold(answerable: list[float], unanswerable: list[float]) -> dict[str, float]:
    """The support threshold (refuse below it) that best tells the two splits apart: the
    largest gap between the shares of unanswerable and of answerable questions it refuses
    (Youden's J), the lowest such threshold on ties. With those two shares."""
    candidates = sorted(set(answerable) | set(unanswerable))
    candidates.append(candidates[-1] + 1e-6 if candidates else 0.0)  # refuse everything

    def gap(t: float) -> float:
        return share_below(unanswerable, t) - share_below(answerable, t)

    best = max(candidates, key=lambda t: (gap(t), -t))
    return {
        "threshold": best,
        "refuses_answerable": share_below(answerable, best),
        "refuses_unanswerable": share_below(unanswerable, best),
    }
