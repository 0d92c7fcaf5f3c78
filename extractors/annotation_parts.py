"""What the language annotators share: the unit they work on (a same-language part of a
chunk), the chunk vectors of a batch, stage timings, and the base class they implement."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from kgrag.core.types import (
    Chunk,
    ChunkAnnotations,
    Document,
    Entity,
    Keyphrase,
    Lang,
    Mention,
    Triple,
)
from kgrag.extractors.chunking import embedding_units
from kgrag.extractors.entities import EntitySpan
from kgrag.extractors.keyphrases import Candidate
from kgrag.extractors.normalize import normalize_key
from kgrag.extractors.token_vectors import TokenVectors
from kgrag.extractors.triples_en import Frame


@dataclass
class Part:
    """A same-language stretch of a level-0 chunk (usually the whole chunk)."""

    item: int  # index of its document in the batch
    chunk: Chunk
    start: int  # offset in the document
    text: str
    lang: Lang
    whole: bool  # the part is the whole chunk, so the chunk's vector is its vector
    annotations: ChunkAnnotations
    keyphrases: list[Keyphrase] = field(default_factory=list)


class ChunkVectors:
    """The chunk vectors of a batch, per document, once they exist: given by the caller,
    or computed by an embedding job running beside the annotation, which may also leave
    token embeddings for contextual phrase vectors. Only the worker thread reads it,
    after that job has finished."""

    def __init__(
        self,
        items: Sequence[tuple[Document, list[Chunk]]],
        rows: Callable[[], Sequence[np.ndarray | None]],
        tokens: Callable[[], Sequence[TokenVectors] | None] = lambda: None,
    ) -> None:
        self._items = items
        self._rows = rows
        self._tokens = tokens
        self._level0: dict[int, dict[str, np.ndarray]] = {}

    def of(self, part: Part) -> np.ndarray | None:
        if not part.whole:
            return None
        if part.item not in self._level0:
            chunks = self._items[part.item][1]
            self._level0[part.item] = level0_vectors(chunks, self._rows()[part.item])
        return self._level0[part.item].get(part.chunk.id)

    def phrase(self, part: Part, candidate: Candidate) -> np.ndarray | None:
        tokens = self._tokens()
        if tokens is None:
            return None
        start = part.start + candidate.start
        return tokens[part.item].span_vector(start, start + len(candidate.text))


def level0_vectors(chunks: list[Chunk], vectors: np.ndarray | None) -> dict[str, np.ndarray]:
    """A vector per level-0 chunk: its own row, or the normalised mean of its children's
    rows in a two-level index."""
    if vectors is None:
        return {}
    units = embedding_units(chunks)
    if len(units) != len(vectors):
        raise ValueError(f"{len(vectors)} vectors for {len(units)} embedding units")
    by_parent: dict[str, list[np.ndarray]] = {}
    for unit, row in zip(units, vectors, strict=True):
        by_parent.setdefault(unit.parent_id or unit.id, []).append(row)
    out: dict[str, np.ndarray] = {}
    for chunk_id, rows in by_parent.items():
        mean = np.mean(rows, axis=0)
        out[chunk_id] = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
    return out


class StageTimer:
    """Seconds per stage, summed over calls (stages on the worker thread overlap the
    others in wall-clock time)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed


class LanguageAnnotator(ABC):
    """Entities, keyphrases and triples for the parts of one language, and the terms of a
    question in that language. Each holds its own tools and the lock that guards them."""

    lang: Lang
    backends: dict[str, str]

    @abstractmethod
    def annotate(
        self,
        parts: list[Part],
        vectors: ChunkVectors,
        pool: ThreadPoolExecutor,
        timed: StageTimer,
    ) -> list[Future[None]]:
        """Fill each part's annotations (and `keyphrases`); work handed to `pool` is
        returned as futures the caller waits for."""

    @abstractmethod
    def query_terms(self, text: str) -> tuple[list[EntitySpan], list[str]]:
        """Entity spans and candidate phrases of a short text such as a question."""


def entities_from_spans(spans: list[EntitySpan], lang: Lang) -> dict[str, Entity]:
    entities: dict[str, Entity] = {}
    for span in spans:
        key = normalize_key(span.text)
        if key:
            entities.setdefault(key, Entity(key, span.text, span.label, lang))
    return entities


def add_mentions(part: Part, spans: list[EntitySpan]) -> None:
    annotations = part.annotations
    known = {e.key for e in annotations.entities}
    for key, entity in entities_from_spans(spans, part.lang).items():
        if key not in known:
            annotations.entities.append(entity)
    for span in spans:
        key = normalize_key(span.text)
        if key:
            annotations.mentions.append(
                Mention(part.chunk.id, key, (part.start + span.start, part.start + span.end))
            )


def add_triples(part: Part, frames: list[Frame], sentence: str, span: tuple[int, int]) -> None:
    for frame in frames:
        part.annotations.triples.append(
            Triple(
                predicate=frame.predicate,
                arg0=frame.arg0,
                arg1=frame.arg1,
                args=frame.args,
                negated=frame.negated,
                chunk_id=part.chunk.id,
                sentence=sentence,
                span=span,
            )
        )
