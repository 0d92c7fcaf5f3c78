"""`Indexer`: what writing a document into a workspace means, in one place.

Per document, vectors are written before graph nodes and the Document is flagged
complete last; the previous versions of its file are dropped after that. So at any
crash point the next run finds either an incomplete document (indexed again, and
removed by `reconcile` if its file is gone) or a complete one with stale versions beside
it (dropped when the file is seen unchanged). Entities are resolved after the writes and
flagged when done, so an interrupted resolution is finished by the next run.

A workspace that keeps the key-information index (`retrievers.keyinfo`) also gets, per
reader chunk, its key information embedded, written with the chunk vectors and deleted
with them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeGuard

from kgrag.core.ids import is_under, normalised_path
from kgrag.core.records import DocumentRecord
from kgrag.core.types import Chunk, Document
from kgrag.extractors.annotator import Annotator
from kgrag.extractors.chunking import Chunker, embedding_units
from kgrag.extractors.embed import Embedder
from kgrag.indexing.discovery import discover
from kgrag.indexing.extraction import (
    ChunkProgress,
    Extraction,
    PreparedDocument,
    extract,
    parse_paths,
)
from kgrag.indexing.report import BatchStats
from kgrag.kg.resolution import resolve_entities
from kgrag.kg.store import GraphStore
from kgrag.retrievers.entity_index import EntityIndex
from kgrag.retrievers.keyinfo import keyinfo_records
from kgrag.retrievers.vector_index import UnitRecord, VectorIndex

STAT_BATCH = 1000  # paths looked up in the graph per query by `unchanged_by_stat`


class IndexingModels(Protocol):
    """The models an `Indexer` works with, each loaded when first used (`Runtime` is
    one): a run that finds every file unchanged, or only repairs, loads none of them."""

    @property
    def embedder(self) -> Embedder: ...

    @property
    def chunker(self) -> Chunker: ...

    @property
    def annotator(self) -> Annotator: ...

    @property
    def entity_index(self) -> EntityIndex: ...


@dataclass
class PreparedBatch:
    documents: list[PreparedDocument] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)  # stale versions beside unchanged files
    # (document id, size, mtime_ns) of unchanged files whose stored stat is not theirs
    # (touched, or stored before the stat was): set, so the next run need not read them
    restat: list[tuple[str, int, int]] = field(default_factory=list)
    stats: BatchStats = field(default_factory=BatchStats)
    extracted_by: str = ""  # the process (host:pid) that extracted `documents`
    backends: str = ""  # the annotator backends that extracted them (`Extraction.backends`)


@dataclass
class Plan:
    """What a batch of parsed documents needs, decided against the graph: the new or
    changed documents to extract, the older versions of their files, and the stale
    versions left beside unchanged files."""

    todo: list[Document] = field(default_factory=list)
    stale: dict[str, list[str]] = field(default_factory=dict)  # todo doc id -> older ids
    repairs: list[str] = field(default_factory=list)
    restat: list[tuple[str, int, int]] = field(default_factory=list)
    unchanged: int = 0

    def keep(self, same: DocumentRecord, versions: Sequence[DocumentRecord]) -> None:
        """`same` is the file's stored, complete version: count it unchanged and repair
        (drop) the file's other versions."""
        self.unchanged += 1
        self.repairs += [v.id for v in versions if v.id != same.id]

    def prepared(self, extraction: Extraction | None = None) -> PreparedBatch:
        """The batch to write: this plan with the extraction of its `todo` (in order)."""
        extraction = extraction or Extraction()
        if [d.doc.id for d in extraction.documents] != [d.id for d in self.todo]:
            raise ValueError("the extraction does not match the planned documents")
        batch = PreparedBatch(
            documents=[replace(d, stale=self.stale[d.doc.id]) for d in extraction.documents],
            repairs=list(self.repairs),
            restat=list(self.restat),
            extracted_by=extraction.process if self.todo else "",
            backends=extraction.backends,
        )
        batch.stats.unchanged = self.unchanged
        for stage, seconds in extraction.stages.items():
            batch.stats.add_time(stage, seconds)
        return batch


class Indexer:
    def __init__(
        self,
        workspace: str,
        graph: GraphStore,
        vectors: VectorIndex,
        models: IndexingModels,
        max_file_bytes: int,
        keyinfo: bool = False,
    ) -> None:
        """`keyinfo`: the workspace keeps the key-information index."""
        self.workspace = workspace
        self.graph = graph
        self.vectors = vectors
        self.models = models
        self.max_file_bytes = max_file_bytes
        self.keyinfo = keyinfo
        self._dropped = False  # documents dropped since the last resolve: entities may be gone

    @property
    def chunker(self) -> Chunker:
        return self.models.chunker

    @property
    def annotator(self) -> Annotator:
        return self.models.annotator

    @property
    def entity_index(self) -> EntityIndex:
        return self.models.entity_index

    @property
    def reads_han(self) -> bool:
        """Whether the workspace's embedder tells Chinese names apart (SAME_AS rules)."""
        return bool(getattr(self.entity_index.embedder, "reads_chinese", False))

    # ------------------------------------------------------------ reading
    def parse(self, paths: Sequence[Path]) -> tuple[list[Document], list[tuple[str, str]]]:
        """Documents, and (path, reason) for each file that could not be read. Whatever a
        reader raises, even a bug, fails that file only, never the batch."""
        return parse_paths(paths, self.max_file_bytes)

    # ------------------------------------------------------------ writing
    def prepare(
        self, docs: Sequence[Document], on_chunks: ChunkProgress | None = None
    ) -> PreparedBatch:
        """Skip documents already complete; chunk, embed and annotate the others
        (`on_chunks`: see `extract`)."""
        plan = self.plan(docs)
        if not plan.todo:  # nothing to extract: no model is needed (nor loaded)
            return plan.prepared()
        return plan.prepared(extract(self.chunker, self.annotator, plan.todo, on_chunks))

    def unchanged_by_stat(self, paths: Sequence[Path]) -> tuple[list[Path], Plan]:
        """The files to read, and the plan for the others: a file whose complete stored
        version has its size and modification time (to the nanosecond) is unchanged
        without being read, the check `git status` and `make` make; its other stored
        versions are repairs. Content rewritten in place with its size and time put back
        goes unseen until either changes."""
        plan = Plan()
        to_read: list[Path] = []
        for start in range(0, len(paths), STAT_BATCH):
            batch = [(normalised_path(p), p) for p in paths[start : start + STAT_BATCH]]
            stored = self.graph.documents_by_paths([normalised for normalised, _ in batch])
            for normalised, path in batch:
                versions = stored.get(normalised, [])
                same = _same_file(path, versions)
                if same is None:
                    to_read.append(path)
                else:
                    plan.keep(same, versions)
        return to_read, plan

    def plan(self, docs: Sequence[Document]) -> Plan:
        """Which documents are already complete (skipped) and which need extracting: the
        graph's part of `prepare`. The extraction (`indexing.extraction.extract`) may then
        run in another process."""
        plan = Plan()
        stored = self.graph.documents_by_paths(sorted({doc.path for doc in docs}))
        for doc in docs:
            versions = stored.get(doc.path, [])
            same = next((v for v in versions if v.id == doc.id and v.complete), None)
            if same is not None:
                plan.keep(same, versions)
                stat = (doc.meta.get("size"), doc.meta.get("mtime_ns"))
                if _is_stat(stat) and (same.size, same.mtime_ns) != stat:
                    plan.restat.append((doc.id, *stat))
            else:
                plan.todo.append(doc)
                plan.stale[doc.id] = [v.id for v in versions if v.id != doc.id]
        return plan

    def write(
        self, batch: PreparedBatch, on_document: Callable[[], None] | None = None
    ) -> BatchStats:
        """Write every prepared document (idempotent: a retry rewrites the same rows);
        `on_document` is called as each one is complete."""
        with self.vectors.batch():  # searches see the batch whole, once it is written
            return self._write(batch, on_document)

    def _write(self, batch: PreparedBatch, on_document: Callable[[], None] | None) -> BatchStats:
        stats = batch.stats
        if batch.documents:
            dim = batch.documents[0].vectors.shape[1]
            self.vectors.ensure(dim, keyinfo=self.keyinfo)
        self._write_keyinfo(batch)
        for item in batch.documents:
            doc = item.doc
            started = time.perf_counter()
            self.vectors.upsert_units(_units(doc, item.chunks), item.vectors)
            stats.add_time("write_vectors", time.perf_counter() - started)
            started = time.perf_counter()
            self.graph.upsert_document(doc, item.chunks, ner_backend=batch.backends)
            self.graph.upsert_annotations(doc.id, item.annotations)
            self.graph.mark_complete(doc.id)
            self.drop(item.stale)
            stats.add_time("write_graph", time.perf_counter() - started)
            stats.indexed += 1
            stats.replaced += len(item.stale)
            stats.chunks += sum(1 for c in item.chunks if c.level == 0)
            if on_document is not None:
                on_document()
        self.drop(batch.repairs)
        stats.replaced += len(batch.repairs)
        self.graph.set_document_stats(batch.restat)
        return stats

    def _write_keyinfo(self, batch: PreparedBatch) -> None:
        """The batch's key-information points, embedded in one call. Written before any
        of its documents is complete, so a crash leaves them to `reconcile`."""
        if not self.keyinfo or not batch.documents:
            return
        started = time.perf_counter()
        records = [r for d in batch.documents for r in keyinfo_records(d.doc, d.annotations)]
        vectors = self.models.embedder.encode([r.text for r in records])
        self.vectors.upsert_keyinfo(records, vectors)
        batch.stats.add_time("keyinfo", time.perf_counter() - started)

    def drop(self, doc_ids: Sequence[str]) -> None:
        """Graph first (the reader's source of truth), then vectors."""
        self._dropped = self._dropped or bool(doc_ids)
        with self.vectors.batch():
            for doc_id in doc_ids:
                self.graph.delete_document(doc_id)
                self.vectors.delete_document(doc_id)

    def resolve(self) -> int:
        """Index and link entities not resolved yet (see `kg.resolution`). Not a write
        batch: resolution searches the names it has just written. Name vectors of
        entities gone are looked for only after this indexer dropped documents (reading
        every name key is the cost of a no-op run otherwise); ones a crashed run left are
        `kgrag doctor`'s to find. With nothing to do it loads no model."""
        pending = self.graph.unresolved_entities()
        if not pending and not self._dropped:
            return 0
        resolved = resolve_entities(
            self.graph,
            self.entity_index,
            threshold=self.entity_index.name_threshold,
            reads_han=self.reads_han,
            prune=self._dropped,
            pending=pending,
        )
        self._dropped = False
        return resolved

    def reconcile(self) -> int:
        """Remove what an interrupted run left: documents never marked complete (graph and
        vectors) and vectors whose document is not in the graph. Returns the number of
        documents removed."""
        documents = self.graph.documents()
        incomplete = [d.id for d in documents if not d.complete]
        self.drop(incomplete)
        complete = {d.id for d in documents if d.complete}
        stored = {*self.vectors.unit_chunks().values(), *self.vectors.keyinfo_chunks().values()}
        orphaned = stored - complete
        with self.vectors.batch():
            for doc_id in orphaned:
                self.vectors.delete_document(doc_id)
        return len(incomplete) + len(orphaned)

    # ------------------------------------------------------------ removing
    def delete(self, doc_ids: Sequence[str]) -> None:
        """Documents with their chunks, vectors, orphaned entities and entity vectors."""
        self.drop(doc_ids)
        self.resolve()

    def targets(self, target: str) -> list[str]:
        """Ids of a document given by id, or of every version of a file given by path."""
        if self.graph.document(target) is not None:
            return [target]
        return [d.id for d in self.graph.documents_by_path(normalised_path(target))]

    def gone_under(self, folder: Path) -> list[str]:
        """Ids of documents under `folder` (whole path components) whose file is gone."""
        root = normalised_path(folder)
        present = {normalised_path(p) for p in discover(Path(root)).files}
        return [
            d.id for d in self.graph.documents() if is_under(d.path, root) and d.path not in present
        ]


def _is_stat(stat: tuple[Any, Any]) -> TypeGuard[tuple[int, int]]:
    return all(isinstance(n, int) for n in stat)


def _same_file(path: Path, versions: Sequence[DocumentRecord]) -> DocumentRecord | None:
    """The complete stored version that `path`'s size and modification time match."""
    try:
        stat = path.stat()
    except OSError:
        return None  # parsing it says why
    now = (stat.st_size, stat.st_mtime_ns)
    return next((v for v in versions if v.complete and (v.size, v.mtime_ns) == now), None)


def _units(doc: Document, chunks: list[Chunk]) -> list[UnitRecord]:
    return [
        UnitRecord(
            unit_id=c.id,
            chunk_id=c.parent_id or c.id,
            doc_id=doc.id,
            text=c.text,
            title=doc.title,
            lang=doc.lang,
        )
        for c in embedding_units(chunks)
    ]
