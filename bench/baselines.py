"""Reference retrievers computed independently of kgrag's stores.

A gap between these and kgrag's own modes points at kgrag's plumbing (chunking, stores,
fusion) rather than at the embedding model or the data.
"""

from __future__ import annotations

import logging
import re
import time
from types import ModuleType
from typing import Protocol

import numpy as np
from rank_bm25 import BM25Okapi

from kgrag.bench.data import Passage, Question
from kgrag.core.text import HAN

_CJK_RUN = re.compile(f"[{HAN}]+")
_WORD = re.compile(r"\w+")


class TextEncoder(Protocol):
    """What the dense baseline needs from `kgrag.extractors.embed.Embedder`."""

    def encode(self, texts: list[str]) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


def passage_text(passage: Passage) -> str:
    """Title and text as one document, the way the benchmark ingests a passage."""
    return f"{passage.title}\n{passage.text}"


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens; runs of Chinese characters are segmented with jieba."""
    tokens: list[str] = []
    pos = 0
    for match in _CJK_RUN.finditer(text):
        tokens.extend(_WORD.findall(text[pos : match.start()].lower()))
        tokens.extend(w for w in _jieba().lcut(match.group()) if w.strip())
        pos = match.end()
    tokens.extend(_WORD.findall(text[pos:].lower()))
    return tokens


def _jieba() -> ModuleType:
    """Import jieba on first Chinese text only: loading its dictionary takes about a second."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first (argpartition, then sort only those k)."""
    k = min(k, len(scores))
    candidates = np.argpartition(-scores, k - 1)[:k]
    return candidates[np.argsort(-scores[candidates], kind="stable")]


def _check(passages: list[Passage], k: int) -> None:
    if not passages:
        raise ValueError("no passages to rank")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def bm25_rankings(
    passages: list[Passage], questions: list[Question], k: int
) -> tuple[list[list[str]], list[float]]:
    """Top-k passage ids per question by BM25Okapi over title + text, and per-query ms.

    Latency covers tokenising the question, scoring and selecting; building the index
    is not timed.
    """
    _check(passages, k)
    ids = [p.id for p in passages]
    index = BM25Okapi([tokenize(passage_text(p)) for p in passages])
    rankings: list[list[str]] = []
    latencies: list[float] = []
    for q in questions:
        start = time.perf_counter()
        scores = np.asarray(index.get_scores(tokenize(q.question)), dtype=np.float64)
        rankings.append([ids[i] for i in _top_k(scores, k)])
        latencies.append((time.perf_counter() - start) * 1000.0)
    return rankings, latencies


def dense_bruteforce_rankings(
    passages: list[Passage], questions: list[Question], embedder: TextEncoder, k: int
) -> tuple[list[list[str]], list[float]]:
    """Top-k passage ids per question by exact cosine similarity, and per-query ms.

    The embedder returns unit vectors, so cosine is a dot product. Each question is
    encoded on its own so the latency matches a single live query; encoding the corpus
    is not timed.
    """
    _check(passages, k)
    ids = [p.id for p in passages]
    matrix = embedder.encode([passage_text(p) for p in passages])
    rankings: list[list[str]] = []
    latencies: list[float] = []
    for q in questions:
        start = time.perf_counter()
        scores = matrix @ embedder.encode_queries([q.question])[0]
        rankings.append([ids[i] for i in _top_k(scores, k)])
        latencies.append((time.perf_counter() - start) * 1000.0)
    return rankings, latencies
