"""Extraction: the CPU-bound part of an ingestion (parse files; chunk, embed and annotate
documents) as functions of their inputs alone, so that it runs the same in the flow's
process or in the worker processes of a distributed task runner.

A worker process cannot be handed the `Indexer` (it holds store connections), so it is
handed an `ExtractionSpec`: the workspace's stored choices and the settings that shape
extraction, small and picklable. Each process builds its chunker and annotator from a spec
once (`tools_for`) and reuses them for every batch. `Runtime` builds the flow process's
chunker and annotator from the same spec, so both give the same chunks, vectors and
annotations. Deciding what to extract needs the graph: that is `Indexer.plan`, in the
flow's process.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kgrag.core.errors import ParseError
from kgrag.core.ids import doc_id_of_chunk
from kgrag.core.types import Chunk, ChunkAnnotations, Document
from kgrag.extractors.annotator import drop_repeated_triples
from kgrag.extractors.chunking import Chunker, embedding_units
from kgrag.extractors.parse import parse_file

if TYPE_CHECKING:
    from kgrag.extractors.annotator import Annotator
    from kgrag.extractors.embed import Embedder


@dataclass(frozen=True)
class ExtractionSpec:
    """How a workspace extracts: enough to build its chunker and annotator in any process
    (model names and paths, not models). Hashable: a process keeps one set per spec."""

    embed_model: str
    chunker: str
    chunk_max_chars: int
    chunk_overlap_chars: int
    spacy_model: str
    batch_size: int
    max_file_bytes: int
    hanlp_ner: str | None = None
    hanlp_tok: str | None = None
    hanlp_srl: str | None = None
    user_dict: str | None = None
    keyphrases: bool = True
    triples: bool = True

    def load_embedder(self, name: str | None = None) -> Embedder:
        """The workspace's embedder, or the model `name`."""
        from kgrag.extractors.embed import load_embedder

        return load_embedder(name or self.embed_model)

    def make_chunker(self, embedder: Embedder) -> Chunker:
        from kgrag.extractors.chunking import make_chunker

        opts: dict[str, Any] = {}
        if self.chunker in ("fixed", "late"):
            opts = {"max_chars": self.chunk_max_chars, "overlap_chars": self.chunk_overlap_chars}
        return make_chunker(self.chunker, embedder, **opts)

    def make_annotator(self, embedder: Embedder) -> Annotator:
        from kgrag.extractors.annotator import build_annotator
        from kgrag.extractors.embed import ENGLISH_EMBED_MODEL, SentenceEmbedder

        phrases = embedder if isinstance(embedder, SentenceEmbedder) else None
        if phrases is None and self.keyphrases:  # KeyBERT reads English with MiniLM
            english = self.load_embedder(ENGLISH_EMBED_MODEL)
            phrases = english if isinstance(english, SentenceEmbedder) else None
        return build_annotator(
            embedder=embedder,
            keyphrase_embedder=phrases,
            spacy_model=self.spacy_model,
            hanlp_ner=self.hanlp_ner,
            hanlp_tok=self.hanlp_tok,
            hanlp_srl=self.hanlp_srl,
            user_dict=self.user_dict,
            keyphrases=self.keyphrases,
            triples=self.triples,
            batch_size=self.batch_size,
        )


def this_process() -> str:
    """host:pid, naming the process that did some work."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PreparedDocument:
    """A new or changed document, chunked, embedded and annotated, ready to write."""

    doc: Document
    chunks: list[Chunk]
    vectors: np.ndarray
    annotations: list[ChunkAnnotations]
    stale: list[str] = field(default_factory=list)  # ids of older versions of the same file


@dataclass
class Parsed:
    """A batch of files read: documents, (path, reason) per file that could not be read,
    and the seconds it took."""

    docs: list[Document]
    failures: list[tuple[str, str]]
    seconds: float = 0.0


@dataclass
class Extraction:
    """Documents chunked, embedded and annotated (in the order given), the seconds per
    stage, the process that did it and the annotator backends it used ("ner=spacy,...",
    recorded on each document), so the writer need not load an annotator to know them."""

    documents: list[PreparedDocument] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    process: str = field(default_factory=this_process)
    backends: str = ""


def parse_paths(
    paths: Sequence[Path], max_bytes: int
) -> tuple[list[Document], list[tuple[str, str]]]:
    """Documents, and (path, reason) for each file that could not be read. Whatever a
    reader raises, even a bug, fails that file only, never the batch."""
    docs: list[Document] = []
    failures: list[tuple[str, str]] = []
    for path in paths:
        try:
            docs.append(parse_file(path, max_bytes=max_bytes))
        except ParseError as exc:
            failures.append((str(path), exc.reason))
        except Exception as exc:
            failures.append((str(path), f"unreadable ({type(exc).__name__}: {exc})"[:300]))
    return docs, failures


# Told (level-0 chunks done, level-0 chunks in all) as an extraction goes.
ChunkProgress = Callable[[int, int], None]


def extract(
    chunker: Chunker,
    annotator: Annotator,
    docs: Sequence[Document],
    on_chunks: ChunkProgress | None = None,
) -> Extraction:
    """Chunk, embed and annotate `docs` (no store is touched), `annotator.batch_size`
    level-0 chunks at a time: `on_chunks` is told (done, in all) once they are chunked
    and after each such batch, so a long file shows progress before it is written."""
    result = Extraction()
    if not docs:
        return result
    result.backends = ",".join(f"{k}={v}" for k, v in sorted(annotator.backends.items()))
    started = time.perf_counter()
    chunked = [(doc, chunker.chunk(doc)) for doc in docs]
    result.stages["chunk"] = time.perf_counter() - started
    started = time.perf_counter()
    total = sum(c.level == 0 for _, chunks in chunked for c in chunks)
    if on_chunks is not None:
        on_chunks(0, total)
    blocks: list[list[np.ndarray]] = [[] for _ in chunked]
    annotations: list[ChunkAnnotations] = []
    done = 0
    whole = type(chunker).embed is not Chunker.embed  # its vectors read the whole document
    for piece in _slices(chunked, annotator.batch_size, whole):
        items = [(chunked[n][0], chunks) for n, chunks in piece]
        vectors, found = annotator.embed_and_annotate(chunker, items)
        for (n, _), rows in zip(piece, vectors, strict=True):
            blocks[n].append(rows)
        annotations += found
        done += sum(c.level == 0 for _, chunks in piece for c in chunks)
        if on_chunks is not None:
            on_chunks(done, total)
    drop_repeated_triples(annotations)  # overlapping chunks of two batches
    result.stages["embed+annotate"] = time.perf_counter() - started
    by_doc: dict[str, list[ChunkAnnotations]] = {}
    for ann in annotations:
        by_doc.setdefault(doc_id_of_chunk(ann.chunk_id), []).append(ann)
    result.documents = []
    for (doc, chunks), parts in zip(chunked, blocks, strict=True):
        vecs = np.concatenate(parts)
        if len(vecs) != len(embedding_units(chunks)):
            raise ValueError(f"{doc.path}: {len(vecs)} vectors for its embedding units")
        result.documents.append(PreparedDocument(doc, chunks, vecs, by_doc.get(doc.id, [])))
    return result


def _slices(
    chunked: Sequence[tuple[Document, list[Chunk]]], size: int, whole: bool
) -> Iterator[list[tuple[int, list[Chunk]]]]:
    """(document index, its chunks) lists of about `size` level-0 chunks each, in order.
    A level-0 chunk keeps the chunks that follow it (its level-1 children) in its
    batch, so each batch's embedding units are the document's, in the same order; with
    `whole`, documents are not split. Every document is in some batch, even one with no
    chunk (its vectors are then an empty block)."""
    piece: list[tuple[int, list[Chunk]]] = []
    count = 0
    for n, (_doc, chunks) in enumerate(chunked):
        groups: list[list[Chunk]] = []
        for chunk in chunks:
            if chunk.level == 0 or not groups:
                groups.append([])
            groups[-1].append(chunk)
        if whole or not groups:
            groups = [list(chunks)]
        for group in groups:
            if count and count + sum(c.level == 0 for c in group) > size:
                yield piece
                piece, count = [], 0
            if piece and piece[-1][0] == n:
                piece[-1][1].extend(group)
            else:
                piece.append((n, list(group)))
            count += sum(c.level == 0 for c in group)
    if piece:
        yield piece


_TOOLS: dict[ExtractionSpec, tuple[Chunker, Annotator]] = {}
_TOOLS_LOCK = threading.Lock()


def tools_for(spec: ExtractionSpec) -> tuple[Chunker, Annotator]:
    """This process's chunker and annotator for `spec`, built (models loaded) on first use."""
    with _TOOLS_LOCK:
        tools = _TOOLS.get(spec)
        if tools is None:
            embedder = spec.load_embedder()
            tools = _TOOLS[spec] = (spec.make_chunker(embedder), spec.make_annotator(embedder))
        return tools


def parse_with(spec: ExtractionSpec, paths: Sequence[Path]) -> Parsed:
    """`parse_paths` with the spec's size limit, timed."""
    started = time.perf_counter()
    docs, failures = parse_paths(paths, spec.max_file_bytes)
    return Parsed(docs, failures, time.perf_counter() - started)


def extract_with(spec: ExtractionSpec, docs: Sequence[Document]) -> Extraction:
    """`extract` with this process's chunker and annotator for `spec`."""
    if not docs:
        return Extraction()
    chunker, annotator = tools_for(spec)
    return extract(chunker, annotator, docs)
