"""Chunkers: one small class per strategy behind one interface.

Every chunker cuts on sentence boundaries (`extractors.sentences`) and starts a new chunk
at each section heading the parser found. A chunk's `span` indexes `doc.text` and its
`id` is f"{doc.id}:{idx}", `idx` unique in the document across levels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from kgrag.core.errors import ConfigError
from kgrag.core.ids import chunk_id
from kgrag.core.types import Chunk, Document
from kgrag.extractors.sentences import split_sentences

if TYPE_CHECKING:
    from kgrag.extractors.embed import Embedder, SentenceEmbedder

Span = tuple[int, int]


def embedding_units(chunks: Sequence[Chunk]) -> list[Chunk]:
    """The chunks that get vectors: a document's level-1 chunks when it has any (two-level
    index: small units are matched), otherwise its level-0 chunks. Order is kept."""
    with_children = {c.doc_id for c in chunks if c.level == 1}
    return [c for c in chunks if c.level == (1 if c.doc_id in with_children else 0)]


class Chunker(ABC):
    """Cuts a Document into Chunks and embeds them. `embed` returns one unit-length row per
    chunk of `embedding_units(chunks)`, in that order."""

    name: str

    @abstractmethod
    def chunk(self, doc: Document) -> list[Chunk]: ...

    def embed(self, doc: Document, chunks: list[Chunk], embedder: Embedder) -> np.ndarray:
        return embedder.encode([c.text for c in embedding_units(chunks)])

    def embed_many(
        self, items: Sequence[tuple[Document, list[Chunk]]], embedder: Embedder
    ) -> list[np.ndarray]:
        """`embed` for many documents; the default batches all texts in one model call."""
        if type(self).embed is not Chunker.embed:
            return [self.embed(doc, chunks, embedder) for doc, chunks in items]
        units = [embedding_units(chunks) for _, chunks in items]
        vectors = embedder.encode([c.text for group in units for c in group])
        bounds = np.cumsum([0, *(len(group) for group in units)])
        return [vectors[a:b] for a, b in pairwise(bounds)]


def _heading_starts(doc: Document) -> set[int]:
    return {int(h[0]) for h in doc.meta.get("headings", ())}


def _sentence_units(doc: Document, max_chars: int) -> list[Span]:
    """Sentence spans, sentences longer than `max_chars` cut at whitespace (or anywhere
    in text without spaces, such as Chinese)."""
    units: list[Span] = []
    for start, end in split_sentences(doc.text, doc.lang):
        while end - start > max_chars:
            cut = doc.text.rfind(" ", start + max_chars // 2, start + max_chars)
            cut = cut if cut > start else start + max_chars
            units.append((start, cut))
            start = cut
            while start < end and doc.text[start].isspace():
                start += 1
        if end > start:
            units.append((start, end))
    return units


def _pack(units: list[Span], max_chars: int, overlap_chars: int, breaks: set[int]) -> list[Span]:
    """Greedy packing of consecutive units into spans of at most `max_chars`; each next
    span repeats trailing units of the previous one worth at most `overlap_chars`."""
    spans: list[Span] = []
    i = 0
    while i < len(units):
        j = i + 1
        while (
            j < len(units)
            and units[j][1] - units[i][0] <= max_chars
            and units[j][0] not in breaks
        ):
            j += 1
        spans.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        k = j
        if units[j][0] not in breaks:
            while k - 1 > i and units[j - 1][1] - units[k - 1][0] <= overlap_chars:
                k -= 1
        i = k
    return spans


def _make_chunks(doc: Document, spans: list[Span], first_idx: int = 0) -> list[Chunk]:
    return [
        Chunk(id=chunk_id(doc.id, idx), doc_id=doc.id, idx=idx, text=doc.text[a:b], span=(a, b))
        for idx, (a, b) in enumerate(spans, start=first_idx)
    ]


class FixedChunker(Chunker):
    """Sentences packed up to `max_chars`, consecutive chunks overlapping by whole
    sentences worth at most `overlap_chars`."""

    name = "fixed"

    def __init__(self, max_chars: int = 800, overlap_chars: int = 120) -> None:
        if max_chars <= 0 or not 0 <= overlap_chars < max_chars:
            raise ConfigError("need max_chars > 0 and 0 <= overlap_chars < max_chars")
        self.max_chars = max_chars
        self.overlap_chars = overlap_chars

    def chunk(self, doc: Document) -> list[Chunk]:
        units = _sentence_units(doc, self.max_chars)
        return _make_chunks(
            doc, _pack(units, self.max_chars, self.overlap_chars, _heading_starts(doc))
        )


class SemanticChunker(Chunker):
    """Cuts where adjacent sentences stop being similar: below `threshold` (cosine) when
    given, else where the distance is in the top (100 - `percentile`)% of the document's
    distances; chunks are kept between `min_chars` and `max_chars` where sentences allow."""

    name = "semantic"

    def __init__(
        self,
        embedder: Embedder,
        threshold: float | None = None,
        percentile: float = 90,
        min_chars: int = 200,
        max_chars: int = 1500,
    ) -> None:
        if not 0 < min_chars <= max_chars:
            raise ConfigError("need 0 < min_chars <= max_chars")
        self.embedder = embedder
        self.threshold = threshold
        self.percentile = percentile
        self.min_chars = min_chars
        self.max_chars = max_chars

    def chunk(self, doc: Document) -> list[Chunk]:
        units = _sentence_units(doc, self.max_chars)
        if len(units) <= 1:
            return _make_chunks(doc, units)
        vectors = self.embedder.encode([doc.text[a:b] for a, b in units])
        similarity = np.sum(vectors[:-1] * vectors[1:], axis=1)
        if self.threshold is not None:
            cut_after = similarity < self.threshold
        else:
            distance = 1.0 - similarity
            cut_after = distance >= np.percentile(distance, self.percentile)
        breaks = _heading_starts(doc)
        spans: list[Span] = []
        start = units[0][0]
        for i in range(1, len(units)):
            size = units[i - 1][1] - start
            if (
                units[i][0] in breaks
                or units[i][1] - start > self.max_chars
                or (cut_after[i - 1] and size >= self.min_chars)
            ):
                spans.append((start, units[i - 1][1]))
                start = units[i][0]
        spans.append((start, units[-1][1]))
        last = spans[-1]
        if (
            len(spans) > 1
            and last[1] - last[0] < self.min_chars
            and last[1] - spans[-2][0] <= self.max_chars
            and last[0] not in breaks
        ):
            spans[-2:] = [(spans[-2][0], last[1])]
        return _make_chunks(doc, spans)


class LateChunker(Chunker):
    """Chunks as FixedChunker; vectors by late chunking: the model reads the whole document
    (overlapping windows of its max length when longer) and each chunk's vector is the
    mean of the contextual token embeddings inside its character span."""

    name = "late"
    # Tokens kept free in each window: re-tokenising a window's text can differ from the
    # document's tokens at the window edges by a few tokens.
    _WINDOW_MARGIN = 8

    def __init__(self, max_chars: int = 800, overlap_chars: int = 0) -> None:
        self._fixed = FixedChunker(max_chars, overlap_chars)

    def chunk(self, doc: Document) -> list[Chunk]:
        return self._fixed.chunk(doc)

    def embed(self, doc: Document, chunks: list[Chunk], embedder: Embedder) -> np.ndarray:
        from kgrag.extractors.embed import SentenceEmbedder

        if not isinstance(embedder, SentenceEmbedder):
            raise ConfigError(
                f"the late chunker needs a sentence-transformers embedder (token vectors); "
                f"{embedder.name!r} is not one"
            )
        units = embedding_units(chunks)
        if not units:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        sums = np.zeros((len(units), embedder.dim), dtype=np.float64)
        counts = np.zeros(len(units), dtype=np.int64)
        starts = np.array([c.span[0] for c in units])
        ends = np.array([c.span[1] for c in units])
        windows = self._windows(doc.text, embedder)
        texts = [doc.text[a:b] for a, b in windows]
        for (w_start, _), text, rows in zip(
            windows, texts, embedder.token_embeddings(texts), strict=True
        ):
            offsets = embedder.tokenizer(
                text, return_offsets_mapping=True, add_special_tokens=True, truncation=True,
                max_length=embedder.max_tokens,
            )["offset_mapping"]
            for row, (a, b) in zip(rows, offsets, strict=False):
                if b <= a:  # special tokens
                    continue
                centre = w_start + (a + b) / 2
                inside = (starts <= centre) & (centre < ends)
                sums[inside] += row
                counts[inside] += 1
        vectors = np.zeros((len(units), embedder.dim), dtype=np.float32)
        has_tokens = counts > 0
        vectors[has_tokens] = (sums[has_tokens].T / counts[has_tokens]).T
        if not has_tokens.all():  # e.g. a chunk of symbols the tokenizer drops
            missing = np.flatnonzero(~has_tokens)
            vectors[missing] = embedder.encode([units[i].text for i in missing])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)

    def _windows(self, text: str, embedder: SentenceEmbedder) -> list[Span]:
        """Character spans of overlapping token windows covering the text (a quarter of a
        window overlaps the next one, so tokens near a cut still see context)."""
        offsets: list[tuple[int, int]] = embedder.tokenizer(
            text, return_offsets_mapping=True, add_special_tokens=False, verbose=False
        )["offset_mapping"]
        size = max(embedder.max_tokens - 2 - self._WINDOW_MARGIN, 16)
        if len(offsets) <= size:
            return [(0, len(text))]
        stride = size - size // 4
        windows: list[Span] = []
        for first in range(0, len(offsets), stride):
            last = min(first + size, len(offsets)) - 1
            windows.append((offsets[first][0], offsets[last][1]))
            if last == len(offsets) - 1:
                break
        return windows


class TwoLevelChunker(Chunker):
    """Level-0 parents (what the reader gets) and level-1 sentence children (what is
    embedded and matched), each child's `parent_id` naming its parent. Sentences shorter
    than `min_child_chars` are joined to the next sentence of the same parent."""

    name = "two-level"

    def __init__(
        self,
        parent_max_chars: int = 1200,
        child_max_chars: int | None = None,
        min_child_chars: int = 30,
    ) -> None:
        """`child_max_chars` defaults to min(400, parent_max_chars)."""
        child_max_chars = min(400, parent_max_chars) if child_max_chars is None else child_max_chars
        if not 0 < child_max_chars <= parent_max_chars:
            raise ConfigError("need 0 < child_max_chars <= parent_max_chars")
        self.parent_max_chars = parent_max_chars
        self.child_max_chars = child_max_chars
        self.min_child_chars = min_child_chars

    def chunk(self, doc: Document) -> list[Chunk]:
        units = _sentence_units(doc, self.child_max_chars)
        parents = _pack(units, self.parent_max_chars, 0, _heading_starts(doc))
        chunks: list[Chunk] = []
        for p_start, p_end in parents:
            parent = _make_chunks(doc, [(p_start, p_end)], first_idx=len(chunks))[0]
            chunks.append(parent)
            children = self._children([u for u in units if p_start <= u[0] and u[1] <= p_end])
            for a, b in children:
                idx = len(chunks)
                chunks.append(
                    Chunk(
                        id=chunk_id(doc.id, idx), doc_id=doc.id, idx=idx, text=doc.text[a:b],
                        span=(a, b), level=1, parent_id=parent.id,
                    )
                )
        return chunks

    def _children(self, units: list[Span]) -> list[Span]:
        children: list[Span] = []
        start: int | None = None
        for a, b in units:
            start = a if start is None else start
            if b - start >= self.min_child_chars:
                children.append((start, b))
                start = None
        if start is not None:
            if children and units[-1][1] - children[-1][0] <= self.child_max_chars:
                children[-1] = (children[-1][0], units[-1][1])
            else:
                children.append((start, units[-1][1]))
        return children


CHUNKER_NAMES = ("fixed", "semantic", "late", "two-level")


def make_chunker(name: str, embedder: Embedder | None = None, **opts: Any) -> Chunker:
    """A chunker by name ("fixed", "semantic", "late", "two-level"); `opts` go to its
    constructor. "semantic" needs the embedder (it embeds sentences to find the cuts)."""
    key = name.strip().lower().replace("_", "-")
    if key == "fixed":
        return FixedChunker(**opts)
    if key == "semantic":
        if embedder is None:
            raise ConfigError("the semantic chunker needs an embedder")
        return SemanticChunker(embedder, **opts)
    if key == "late":
        return LateChunker(**opts)
    if key in ("two-level", "twolevel"):
        return TwoLevelChunker(**opts)
    raise ConfigError(f"unknown chunker {name!r}; choose one of {', '.join(CHUNKER_NAMES)}")
