"""Sparse keyword vectors for Qdrant (BM25-like with Qdrant's IDF modifier).

Documents get a saturated, length-normalised term frequency per token (the BM25 TF part);
Qdrant's `Modifier.IDF` supplies the IDF part at query time from the live collection, so
no corpus statistics are kept here. Chinese text is tokenised with jieba's search mode,
English with a word regex minus a short stopword list.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

from kgrag.core.text import HAN_RUN

K1 = 1.2
B = 0.75
AVG_TOKENS = 120.0  # typical chunk length in tokens; only shapes the length normalisation

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_STOP_EN = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "she",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "you",
        "your",
        "did",
        "does",
        "do",
        "how",
        "many",
        "much",
        "than",
        "then",
        "there",
        "these",
        "those",
    ]
)
_STOP_ZH = frozenset(
    [
        "的",
        "了",
        "在",
        "是",
        "和",
        "与",
        "及",
        "或",
        "也",
        "都",
        "而",
        "就",
        "被",
        "把",
        "对",
        "从",
        "到",
        "为",
        "以",
        "之",
        "其",
        "这",
        "那",
        "有",
        "个",
        "中",
    ]
)


@lru_cache(maxsize=1)
def _jieba() -> object:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def latin_words(text: str) -> list[str]:
    """Lowercased English (Latin-script) words, stopwords removed."""
    return [t for t in (w.lower() for w in _WORD.findall(text)) if t not in _STOP_EN]


def tokenize(text: str) -> list[str]:
    """Lowercased English words and jieba words for CJK runs, stopwords removed."""
    tokens = latin_words(text)
    for run in HAN_RUN.findall(text):
        jieba = _jieba()
        tokens.extend(
            w
            for w in jieba.cut_for_search(run)  # type: ignore[attr-defined]
            if w.strip() and w not in _STOP_ZH
        )
    return tokens


def token_index(token: str) -> int:
    """Stable 31-bit id per token (crc32), so indices agree across processes."""
    return zlib.crc32(token.encode("utf-8")) & 0x7FFFFFFF


def document_vector(text: str) -> tuple[list[int], list[float]]:
    counts = Counter(token_index(t) for t in tokenize(text))
    length = sum(counts.values()) or 1
    norm = K1 * (1 - B + B * length / AVG_TOKENS)
    indices = sorted(counts)
    values = [counts[i] * (K1 + 1) / (counts[i] + norm) for i in indices]
    return indices, values


def query_vector(text: str) -> tuple[list[int], list[float]]:
    indices = sorted({token_index(t) for t in tokenize(text)})
    return indices, [1.0] * len(indices)
