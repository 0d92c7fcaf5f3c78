"""Prefect ingestion flow: discover -> parse -> prepare (chunk, embed, annotate) -> write,
then resolve entities and reconcile. Each task is a thin call into the `Indexer`.

Tasks work on batches of documents (per-document task runs would cost more in
orchestration than the work itself). Only the tasks that write to the stores retry:
every write is idempotent, and the model work before them is not repeated.

By default every step runs in the flow's own process. Given an `ExtractionSpec`, the
flow submits the CPU-bound steps (parse; chunk, embed, annotate) to its task runner
instead, e.g. `ingest_flow.with_options(task_runner=dask_task_runner())`: worker
processes build the models once from the spec, while this process plans each batch
against the graph and does every write (a local Qdrant folder allows one process).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import TaskRunner
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from kgrag.core.settings import BATCH_SIZE
from kgrag.core.types import Document
from kgrag.flows.naming import run_name
from kgrag.indexing.discovery import discover
from kgrag.indexing.doctor import quick_check
from kgrag.indexing.extraction import (
    ChunkProgress,
    Extraction,
    ExtractionSpec,
    Parsed,
    extract_with,
    parse_with,
)
from kgrag.indexing.indexer import Indexer, Plan, PreparedBatch
from kgrag.indexing.report import BatchStats, IngestReport

# Told (files done, files in all, failures so far) as each file of an ingestion is done.
Progress = Callable[[int, int, list[tuple[str, str]]], None]


@task(cache_policy=NO_CACHE)
def parse_files(
    indexer: Indexer, paths: list[Path]
) -> tuple[list[Document], list[tuple[str, str]]]:
    return indexer.parse(paths)


@task(cache_policy=NO_CACHE)
def prepare_documents(
    indexer: Indexer, docs: list[Document], on_chunks: ChunkProgress | None = None
) -> PreparedBatch:
    return indexer.prepare(docs, on_chunks)


@task(cache_policy=NO_CACHE)
def parse_in_worker(spec: ExtractionSpec, paths: list[Path]) -> Parsed:
    return parse_with(spec, paths)


@task(cache_policy=NO_CACHE)
def extract_in_worker(spec: ExtractionSpec, docs: list[Document]) -> Extraction:
    """Chunk, embed and annotate with the models this process built from `spec` (once)."""
    return extract_with(spec, docs)


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


Failures = list[tuple[str, str]]  # (path, reason) per file that could not be read
# A new `ChunkProgress` for each extraction, adding what it is told to the ingestion's.
ChunkCounter = Callable[[], ChunkProgress]


def _prepare_here(
    indexer: Indexer, batches: Iterator[list[Path]], report: IngestReport, chunks: ChunkCounter
) -> Iterator[tuple[Failures, PreparedBatch]]:
    for batch in batches:
        started = time.perf_counter()
        docs, failures = parse_files(indexer, batch)
        report.add_time("parse", time.perf_counter() - started)
        yield failures, prepare_documents(indexer, docs, chunks())


def _prepare_in_workers(
    indexer: Indexer,
    spec: ExtractionSpec,
    batches: Iterator[list[Path]],
    report: IngestReport,
    window: int,
    chunks: ChunkCounter,
) -> Iterator[tuple[Failures, PreparedBatch]]:
    """Batches parsed and extracted by tasks on the task runner, planned here in between,
    yielded in order while the workers go on with the next ones (up to `window` batches
    being extracted and as many being parsed). A worker cannot call back into this
    process, so a batch's chunks are counted when its extraction comes back."""
    parsing: deque[PrefectFuture[Parsed]] = deque()
    extracting: deque[tuple[Failures, Plan, PrefectFuture[Extraction] | None]] = deque()

    def parse_next() -> None:
        paths = next(batches, None)
        if paths is not None:
            with _shippable_context():
                parsing.append(parse_in_worker.submit(spec, paths))

    for _ in range(window):
        parse_next()
    while parsing or extracting:
        while parsing and len(extracting) < window:
            parsed = parsing.popleft().result()
            report.add_time("parse", parsed.seconds)
            plan = indexer.plan(parsed.docs)  # skipping complete documents needs the graph
            future = None
            if plan.todo:
                with _shippable_context():
                    future = extract_in_worker.submit(spec, plan.todo)
            extracting.append((parsed.failures, plan, future))
            parse_next()
        failures, plan, future = extracting.popleft()
        extraction = future.result() if future is not None else None
        if extraction is not None:
            n = sum(c.level == 0 for d in extraction.documents for c in d.chunks)
            chunks()(n, n)
        yield failures, plan.prepared(extraction)


@contextmanager
def _shippable_context() -> Iterator[None]:
    """Around submitting a task to another process. Prefect sends the flow run's context
    with it: the flow's parameters, which cannot leave this process (the indexer holds
    store connections and models; the progress callback, a terminal), so only plain ones
    go; and the settings, where no API URL (a temporary server) would make each worker
    start a Prefect server of its own, so the URL of this run's API goes."""
    context = FlowRunContext.get()
    if context is None:
        yield
        return
    parameters = context.parameters
    context.parameters = {
        name: value
        for name, value in (parameters or {}).items()
        if value is None or isinstance(value, str | int | float | bool)
    }
    try:
        with temporary_settings(updates={PREFECT_API_URL: str(context.client.api_url)}):
            yield
    finally:
        context.parameters = parameters


def _task_slots() -> int:
    """Tasks the flow's task runner runs at once: a Dask cluster's worker threads (asking
    starts the runner's cluster), else 1."""
    context = FlowRunContext.get()
    client = getattr(context.task_runner, "client", None) if context is not None else None
    nthreads = getattr(client, "nthreads", None)
    if not callable(nthreads):
        return 1
    return max(1, sum(nthreads().values()))


def dask_task_runner(address: str | None = None, workers: int = 2) -> TaskRunner[Any]:
    """prefect-dask's `DaskTaskRunner` on the Dask scheduler at `address` (its workers
    must reach this run's Prefect API and the files), or else on a local cluster of
    `workers` processes of one thread each, started and closed with each flow run."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": ":0",  # any free port: runs never collide on 8787
        }
    )


@flow(name="kgrag-ingest", flow_run_name=run_name("ingest"), log_prints=True)
def ingest_flow(
    path: str,
    indexer: Indexer,
    batch_size: int = BATCH_SIZE,
    show_progress: bool = True,
    progress: Progress | None = None,
    extraction: ExtractionSpec | None = None,
    chunk_progress: ChunkProgress | None = None,
) -> IngestReport:
    """Ingest a file or folder into the indexer's workspace (idempotent). `progress` is
    told (files done, files in all, failures so far) as each file is done;
    `chunk_progress`, (chunks done, chunks in all) as each batch of chunks is embedded
    and annotated, both counted over the files chunked so far (the total grows batch by
    batch of files), so a long file moves before it is done. With `extraction`, parsing
    and extraction are tasks on the flow's task runner, in batches no bigger than an
    equal share of the files per worker (chunks are then counted per batch of files)."""
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
    chunks_done = chunks_total = 0
    with RichProgress(
        TextColumn("[bold]ingest {task.description}"),
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

        chunk_bar = bars.add_task("chunks", total=None, visible=False)

        def chunk_counter() -> ChunkProgress:
            told = [0, 0]  # what this extraction said last: (done, in all)

            def tell(n: int, of: int) -> None:
                nonlocal chunks_done, chunks_total
                chunks_done += n - told[0]
                chunks_total += of - told[1]
                told[:] = [n, of]
                bars.update(chunk_bar, completed=chunks_done, total=chunks_total, visible=True)
                if chunk_progress is not None:
                    chunk_progress(chunks_done, chunks_total)

            return tell

        advance(0)  # the total is known
        to_read, known = indexer.unchanged_by_stat(found.files)
        advance(known.unchanged)
        unchanged = known.prepared()
        report.merge(write_documents(indexer, unchanged) if known.repairs else unchanged.stats)
        if extraction is None:
            batches = _batches(to_read, batch_size)
            prepared_batches = _prepare_here(indexer, batches, report, chunk_counter)
        else:
            slots = _task_slots() if to_read else 1
            size = max(1, min(batch_size, math.ceil(len(to_read) / slots)))
            batches = _batches(to_read, size)
            prepared_batches = _prepare_in_workers(
                indexer, extraction, batches, report, 2 * slots, chunk_counter
            )
        for failures, prepared in prepared_batches:
            for failed_path, reason in failures:
                logger.warning("skipped %s: %s", failed_path, reason)
            report.failed.extend(failures)
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
