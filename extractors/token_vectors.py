"""Chunk vectors and contextual phrase vectors from one pass of the embedding model.

For a mean-pooling sentence-transformers model (the bundled MiniLM), a text's vector is
the normalised mean of its token embeddings, so asking the model for token embeddings
gives the chunk vectors unchanged and, besides, a vector for any phrase inside a chunk:
the mean of the phrase's tokens, read in context. Keyphrase ranking then needs no second
model pass over candidate phrases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kgrag.core.types import Chunk, Document
from kgrag.extractors.chunking import embedding_units

if TYPE_CHECKING:
    from kgrag.extractors.embed import SentenceEmbedder


@dataclass
class _Unit:
    start: int  # offset of the unit's text in the document
    offsets: np.ndarray  # (tokens, 2) character offsets in the unit's text
    rows: np.ndarray  # (tokens, dim) contextual token embeddings


class TokenVectors:
    """The token embeddings of one document's embedding units."""

    def __init__(self, units: list[_Unit]) -> None:
        self._units = units

    def span_vector(self, start: int, end: int) -> np.ndarray | None:
        """Unit-length mean of the tokens inside document span [start, end), from the first
        unit that holds the whole span; None when none does (e.g. truncated away)."""
        for unit in self._units:
            a, b = start - unit.start, end - unit.start
            if not len(unit.offsets) or a < 0 or b > int(unit.offsets[:, 1].max()):
                continue
            inside = (unit.offsets[:, 0] >= a) & (unit.offsets[:, 1] <= b)
            inside &= unit.offsets[:, 1] > unit.offsets[:, 0]
            if inside.any():
                mean = unit.rows[inside].mean(axis=0)
                return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        return None


def mean_pooling(embedder: SentenceEmbedder) -> bool:
    """Whether the model is Transformer -> mean Pooling (-> Normalize), the case where
    pooling token embeddings ourselves reproduces `embedder.encode`."""
    try:
        modules: list[Any] = list(embedder.model)
    except TypeError:
        return False
    names = [type(m).__name__ for m in modules]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    config = modules[1].get_config_dict()
    return bool(config.get("pooling_mode") == "mean" or config.get("pooling_mode_mean_tokens"))


def embed_with_tokens(
    items: Sequence[tuple[Document, list[Chunk]]], embedder: SentenceEmbedder
) -> tuple[list[np.ndarray], list[TokenVectors]]:
    """Per document: the rows `Chunker.embed` would return for its embedding units (same
    numbers, for mean-pooling models) and the token embeddings behind them."""
    units = [embedding_units(chunks) for _, chunks in items]
    texts = [c.text for group in units for c in group]
    rows = embedder.token_embeddings(texts) if texts else []
    encoded = embedder.tokenizer(
        texts, return_offsets_mapping=True, truncation=True, max_length=embedder.max_tokens
    ) if texts else {"offset_mapping": []}
    flat_vectors: list[np.ndarray] = []
    flat_units: list[_Unit | None] = []
    for chunk, token_rows, offsets in zip(
        [c for group in units for c in group], rows, encoded["offset_mapping"], strict=True
    ):
        mean = token_rows.mean(axis=0)
        flat_vectors.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        aligned = len(offsets) == len(token_rows)
        flat_units.append(
            _Unit(chunk.span[0], np.asarray(offsets, dtype=np.int64).reshape(-1, 2), token_rows)
            if aligned else None
        )
    vectors: list[np.ndarray] = []
    tokens: list[TokenVectors] = []
    pos = 0
    for group in units:
        block = flat_vectors[pos : pos + len(group)]
        vectors.append(
            np.stack(block).astype(np.float32) if block
            else np.zeros((0, embedder.dim), dtype=np.float32)
        )
        tokens.append(TokenVectors([u for u in flat_units[pos : pos + len(group)] if u]))
        pos += len(group)
    return vectors, tokens
