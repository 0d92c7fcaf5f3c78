"""What the serving process holds: one `Client` per workspace (sharing the process's
stores and models through `Runtime`), the ingestion jobs, and the write lock.

Writes (ingestions, deletes, prunes, resets, repairs) run one at a time under the write
lock; reads never take it: graph reads are independent queries and vector searches run
over an immutable snapshot that a write replaces.
"""

from __future__ import annotations

import itertools
import shutil
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from kgrag.client import Client
from kgrag.core.errors import KgragError, PathNotAllowedError
from kgrag.core.settings import Settings, check_workspace

JobState = Literal["queued", "running", "done", "failed"]
# Finished jobs kept for `GET /v1/jobs/{id}`; older ones are forgotten as new ones come.
KEPT_FINISHED_JOBS = 200
JobKind = Literal["ingest", "sync"]


@dataclass
class Job:
    id: str
    workspace: str
    source: str  # the path ingested (an upload folder for uploads)
    kind: JobKind = "ingest"  # sync: ingest, then delete what is gone from the folder
    state: JobState = "queued"
    files_done: int = 0
    files_total: int = 0
    # Level-0 chunks embedded and annotated, of those of the files chunked so far: these
    # move within a long file, while files_done waits for it to be written.
    chunks_done: int = 0
    chunks_total: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    report: dict[str, Any] | None = None
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.write_lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._clients_lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._runner = ThreadPoolExecutor(1, thread_name_prefix="kgrag-ingest")

    def client(self, workspace: str) -> Client:
        name = check_workspace(workspace)
        with self._clients_lock:
            if name not in self._clients:
                self._clients[name] = Client(workspace=name, settings=self.settings)
            return self._clients[name]

    # ------------------------------------------------------------ ingestion jobs
    def allowed_path(self, path: str, trusted: bool) -> Path:
        """`path` resolved, if the caller may ingest it: a client of this home on this
        machine (`trusted`) anywhere, others only under KGRAG_INGEST_ROOTS."""
        resolved = Path(path).expanduser().resolve()
        if trusted or any(resolved.is_relative_to(r) for r in self.settings.ingest_root_paths):
            return resolved
        roots = self.settings.ingest_roots or "none: uploads only"
        raise PathNotAllowedError(
            f"{path}: outside the folders this server ingests from (KGRAG_INGEST_ROOTS: {roots})"
        )

    def upload_folder(self, workspace: str) -> Path:
        """A new folder for one upload; its files are kept (they are the documents)."""
        folder = self.settings.home / "uploads" / check_workspace(workspace) / f"{time.time_ns()}"
        folder.mkdir(parents=True)
        return folder

    def submit(self, workspace: str, source: Path, kind: JobKind = "ingest") -> Job:
        client = self.client(workspace)
        job = Job(f"job-{next(self._ids)}", client.workspace, str(source), kind)
        self._forget_old_jobs()
        self._jobs[job.id] = job
        self._runner.submit(self._run, job, client)
        return job

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def _forget_old_jobs(self) -> None:
        """A server that runs for months keeps the last KEPT_FINISHED_JOBS finished jobs
        (and every queued or running one), not all of them."""
        finished = [j for j in self._jobs.values() if j.finished_at is not None]
        finished.sort(key=lambda j: j.finished_at or 0.0)
        for job in finished[: max(0, len(finished) - KEPT_FINISHED_JOBS + 1)]:
            del self._jobs[job.id]

    def _run(self, job: Job, client: Client) -> None:
        def progress(done: int, total: int, failed: list[tuple[str, str]]) -> None:
            job.files_done, job.files_total, job.failed = done, total, failed

        def chunk_progress(done: int, total: int) -> None:
            job.chunks_done, job.chunks_total = done, total

        with self.write_lock:
            job.state = "running"
            try:
                report = (
                    client.sync(job.source, progress, chunk_progress)
                    if job.kind == "sync"
                    else client.ingest(job.source, progress=progress, chunk_progress=chunk_progress)
                )
            except KgragError as exc:
                job.state, job.error = "failed", str(exc)
            except Exception as exc:  # a job reports its failure; the server goes on
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            else:
                job.report, job.failed = asdict(report), list(report.failed)
                job.files_done = job.files_total
                job.state = "done"
            finally:
                job.finished_at = time.time()

    # ------------------------------------------------------------ other writes
    def reset(self, workspace: str) -> None:
        with self.write_lock:
            self.client(workspace).reset()
            shutil.rmtree(self.settings.home / "uploads" / workspace, ignore_errors=True)

    def close(self) -> None:
        self._runner.shutdown(wait=False, cancel_futures=True)
