"""Prefect ingestion flow: discover -> parse -> prepare (chunk, embed, annotate) -> write,
then resolve entities and reconcile. Each task is a thin call into the `Indexer`.

Tasks work on batches of documents (per-document task runs would cost more in
orchestration than the work itself). Only the tasks that write to the stores retry:
every write is idempotent, and the model work before them is not repeated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from kgrag.core.settings import BATCH_SIZE
from kgrag.core.types import Document
from kgrag.indexing.discovery import discover
from kgrag.indexing.doctor import quick_check
from kgrag.indexing.indexer import Indexer, PreparedBatch
from kgrag.indexing.report import BatchStats, IngestReport

# Told (files done, files in all, failures so far) as each file of an ingestion is done.
Progress = Callable[[int, int, list[tuple[str, str]]], None]


@task(cache_policy=NO_CACHE)
def parse_files(
    indexer: Indexer, paths: list[Path]
) -> tuple[list[Document], list[tuple[str, str]]]:
    return indexer.parse(paths)


@task(cache_policy=NO_CACHE)
def prepare_documents(indexer: Indexer, docs: list[Document]) -> PreparedBatch:
    return indexer.prepare(docs)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def write_documents(
    indexer: Indexer, batch: PreparedBatch, on_document: Callable[[], None] | None = None
) -> BatchStats:
    return indexer.write(batch, on_document)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def resolve_entities(indexer: Indexer) -> int:
    return indexer.resolve()


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def reconcile(indexer: Indexer) -> int:
    return indexer.reconcile()


def _batches(items: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run_name() -> str:
    from prefect.runtime import flow_run

    indexer = flow_run.parameters.get("indexer")
    return f"ingest-{getattr(indexer, 'workspace', 'workspace')}"


@flow(name="kgrag-ingest", flow_run_name=_run_name, log_prints=True)
def ingest_flow(
    path: str,
    indexer: Indexer,
    batch_size: int = BATCH_SIZE,
    show_progress: bool = True,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest a file or folder into the indexer's workspace (idempotent). `progress` is
    told (files done, files in all, failures so far) as each file is done."""
    logger = get_run_logger()
    began = time.perf_counter()
    found = discover(Path(path))
    report = IngestReport(workspace=indexer.workspace, files=len(found.files))
    for skipped_path, reason in found.skipped:
        logger.warning("skipped %s: %s", skipped_path, reason)
    report.failed.extend(found.skipped)
    logger.info(
        "ingesting %d files from %s into workspace %r", len(found.files), path, indexer.workspace
    )
    done = 0
    with RichProgress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not show_progress,
    ) as bars:
        bar = bars.add_task("files", total=len(found.files))

        def advance(files: int = 1) -> None:
            nonlocal done
            done = min(done + files, len(found.files))  # a retried write reports again
            bars.advance(bar, files)
            if progress is not None:
                progress(done, len(found.files), list(report.failed))

        advance(0)  # the total is known
        for batch in _batches(found.files, batch_size):
            started = time.perf_counter()
            docs, failures = parse_files(indexer, batch)
            report.add_time("parse", time.perf_counter() - started)
            for failed_path, reason in failures:
                logger.warning("skipped %s: %s", failed_path, reason)
            report.failed.extend(failures)
            prepared = prepare_documents(indexer, docs)
            advance(len(failures) + prepared.stats.unchanged)
            report.merge(write_documents(indexer, prepared, advance))
    started = time.perf_counter()
    report.entities = resolve_entities(indexer)
    report.add_time("resolve", time.perf_counter() - started)
    report.repaired = reconcile(indexer)
    if report.repaired:
        logger.warning(
            "removed %d documents left incomplete by an interrupted run", report.repaired
        )
    report.problems = [f"{check}: {n}" for check, n in quick_check(indexer).rows() if n]
    for problem in report.problems:
        logger.warning("%s (run `kgrag doctor --repair`)", problem)
    report.seconds = time.perf_counter() - began
    create_markdown_artifact(
        key=f"kgrag-ingest-{indexer.workspace.lower().replace('_', '-')}",
        markdown=report.summary(),
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
