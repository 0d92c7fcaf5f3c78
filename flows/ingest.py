"""Prefect ingestion flow: discover -> parse -> chunk -> embed -> annotate -> write.

Tasks are thin calls into the stages and work on batches of documents (per-document task
runs would cost more in orchestration than the work itself). Per document, vectors are
written before graph nodes and the Document is flagged complete last, so an interrupted
run leaves nothing that a re-run does not finish; a re-run of unchanged files is a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kgrag.runtime import get_runtime
from kgrag.settings import Settings
from kgrag.types import Chunk, ChunkAnnotations, Document
from retrievers.vector_index import UnitRecord


@dataclass
class IngestReport:
    workspace: str
    files: int = 0
    indexed: int = 0
    unchanged: int = 0
    replaced: int = 0
    chunks: int = 0
    entities: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def merge(self, batch: BatchStats) -> None:
        self.indexed += batch.indexed
        self.unchanged += batch.unchanged
        self.replaced += batch.replaced
        self.chunks += batch.chunks
        for stage, seconds in batch.stages.items():
            self.add_time(stage, seconds)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class BatchStats:
    """What one `index_documents` call did; the flow merges these into its report."""

    indexed: int = 0
    unchanged: int = 0
    replaced: int = 0
    chunks: int = 0
    stages: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


def discover(path: Path) -> list[Path]:
    """Supported files under `path` (or `path` itself), sorted, hidden ones skipped."""
    from extractors.parse import SUPPORTED_SUFFIXES

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def _batches(items: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@task(cache_policy=NO_CACHE)
def parse_files(paths: list[Path], max_bytes: int) -> tuple[list[Document], list[tuple[str, str]]]:
    """Parse each file; a bad file becomes a (path, reason) failure, never a batch error."""
    from extractors.errors import ParseError
    from extractors.parse import parse_file

    docs: list[Document] = []
    failures: list[tuple[str, str]] = []
    for path in paths:
        try:
            docs.append(parse_file(path, max_bytes=max_bytes))
        except ParseError as exc:
            failures.append((str(path), exc.reason))
    return docs, failures


def _units(doc: Document, chunks: list[Chunk]) -> list[UnitRecord]:
    from extractors.chunking import embedding_units

    return [
        UnitRecord(
            unit_id=c.id,
            chunk_id=c.parent_id or c.id,
            doc_id=doc.id,
            text=c.text,
            path=doc.path,
            title=doc.title,
            lang=doc.lang,
            span=c.span,
        )
        for c in embedding_units(chunks)
    ]


@task(cache_policy=NO_CACHE)
def index_documents(settings: Settings, workspace: str, docs: list[Document]) -> BatchStats:
    """Index new or changed documents of one batch; unchanged ones are skipped."""
    rt = get_runtime(settings, workspace, create=True)
    report = BatchStats()
    todo: list[tuple[Document, list[str]]] = []
    for doc in docs:
        existing = rt.graph.documents_by_path(doc.path)
        if any(r["id"] == doc.id and r["complete"] for r in existing):
            report.unchanged += 1
            continue
        todo.append((doc, [r["id"] for r in existing if r["id"] != doc.id]))
    if not todo:
        return report

    rt.vectors.ensure(rt.embedder.dim)
    started = time.perf_counter()
    chunked = [(doc, rt.chunker.chunk(doc)) for doc, _ in todo]
    report.add_time("chunk", time.perf_counter() - started)

    started = time.perf_counter()
    vectors, annotations = rt.annotator.embed_and_annotate(rt.chunker, chunked)
    report.add_time("embed+annotate", time.perf_counter() - started)
    by_doc: dict[str, list[ChunkAnnotations]] = {}
    for ann in annotations:
        by_doc.setdefault(ann.chunk_id.rsplit(":", 1)[0], []).append(ann)

    backend = ",".join(f"{k}={v}" for k, v in sorted(rt.annotator.backends.items()))
    for (doc, chunks), vecs, (_, stale) in zip(chunked, vectors, todo):
        started = time.perf_counter()
        rt.vectors.upsert_units(_units(doc, chunks), vecs)
        report.add_time("write_vectors", time.perf_counter() - started)
        started = time.perf_counter()
        rt.graph.upsert_document(doc, chunks, ner_backend=backend)
        rt.graph.upsert_annotations(doc.id, by_doc.get(doc.id, []))
        rt.graph.mark_complete(doc.id)
        for old_id in stale:  # the file changed: drop its previous version
            rt.graph.delete_document(old_id)
            rt.vectors.delete_document(old_id)
            report.replaced += 1
        report.add_time("write_graph", time.perf_counter() - started)
        report.indexed += 1
        report.chunks += sum(1 for c in chunks if c.level == 0)
    return report


@task(cache_policy=NO_CACHE)
def reconcile(settings: Settings, workspace: str) -> int:
    """Delete vectors whose document is not complete in the graph (left by a crash)."""
    rt = get_runtime(settings, workspace, create=True)
    complete = {r["id"] for r in rt.graph.documents()}
    orphaned = {p["doc_id"] for p in rt.vectors.unit_payloads()} - complete
    for doc_id in orphaned:
        rt.vectors.delete_document(doc_id)
    return len(orphaned)


def _summary(report: IngestReport) -> str:
    lines = [
        f"# kgrag ingest: workspace `{report.workspace}`",
        "",
        "| files | indexed | unchanged | replaced | chunks | failed | seconds |",
        "|---|---|---|---|---|---|---|",
        f"| {report.files} | {report.indexed} | {report.unchanged} | {report.replaced} | "
        f"{report.chunks} | {len(report.failed)} | {report.seconds:.1f} |",
    ]
    if report.failed:
        lines += ["", "## Failed", "", "| file | reason |", "|---|---|"]
        lines += [f"| {path} | {reason} |" for path, reason in report.failed]
    if report.stages:
        lines += ["", "## Seconds per stage", ""]
        lines += [f"- {stage}: {secs:.2f}" for stage, secs in report.stages.items()]
    return "\n".join(lines)


@flow(name="kgrag-ingest", log_prints=True)
def ingest_flow(
    path: str,
    workspace: str = "default",
    settings: Settings | None = None,
    batch_size: int = 32,
    show_progress: bool = True,
) -> IngestReport:
    """Ingest a file or folder into a workspace's graph and vector index."""
    logger = get_run_logger()
    settings = settings or Settings()
    began = time.perf_counter()
    files = discover(Path(path))
    report = IngestReport(workspace=workspace, files=len(files))
    logger.info("ingesting %d files from %s into workspace %r", len(files), path, workspace)
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not show_progress,
    ) as progress:
        bar = progress.add_task("files", total=len(files))
        for batch in _batches(files, batch_size):
            started = time.perf_counter()
            docs, failures = parse_files(batch, settings.max_file_bytes)
            report.add_time("parse", time.perf_counter() - started)
            for failed_path, reason in failures:
                logger.warning("skipped %s: %s", failed_path, reason)
            report.failed.extend(failures)
            report.merge(index_documents(settings, workspace, docs))
            progress.advance(bar, len(batch))
    if report.indexed or report.replaced:
        started = time.perf_counter()
        resolved = resolve_entities(settings, workspace)
        report.entities = resolved
        report.add_time("resolve", time.perf_counter() - started)
    removed = reconcile(settings, workspace)
    if removed:
        logger.warning("removed vectors of %d incomplete documents", removed)
    report.seconds = time.perf_counter() - began
    create_markdown_artifact(
        key=f"kgrag-ingest-{workspace.lower().replace('_', '-')}",
        markdown=_summary(report),
        description="kgrag ingestion summary",
    )
    logger.info(
        "indexed %d, unchanged %d, failed %d, chunks %d in %.1fs",
        report.indexed,
        report.unchanged,
        len(report.failed),
        report.chunks,
        report.seconds,
    )
    return report


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def resolve_entities(settings: Settings, workspace: str) -> int:
    """Embed new entity names and add SAME_AS edges to near neighbours (kg.resolution)."""
    from kg.resolution import sync_entity_vectors

    rt = get_runtime(settings, workspace, create=True)
    return sync_entity_vectors(rt.graph, rt.vectors, rt.embedder.encode)
