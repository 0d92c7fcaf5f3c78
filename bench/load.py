"""`kgrag bench load`: a running `kgrag serve` under concurrent load, over HTTP only.

Setup (not timed): the benchmark corpus is ingested into its workspace on the server (by
path with this home's local token, else uploaded) and one retrieve and one ask warm the
models. Then, for `seconds`, `clients` threads send /retrieve (mode fused, k 5) and
`ask_clients` threads send /ask (non-streaming, k 3) as fast as they are answered, the
questions taken round-robin, while the server ingests another folder into a second
workspace. Each thread owns one httpx client (one keep-alive connection).

The background ingestion is a series of small jobs rather than one big folder: each job
is a batch of `batch_files` new markdown passages, and one batch always waits queued
behind the running one, so the server ingests without a gap for the whole window however
fast it is, and stops within two batches once the window closes (the server has no way to
cancel a job, so a folder sized from a guessed rate would either end early or run on long
after the window). The passages are the corpus (or `--ingest-data`'s) re-titled and
shuffled with a fixed seed, file i always the same, so runs are comparable; the second
workspace is reset during setup, so every run indexes the same files from scratch.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kgrag.bench.data import Passage, load_corpus
from kgrag.bench.report import write_json
from kgrag.bench.retrieval import BenchCorpus, prepare
from kgrag.core.errors import ConfigError, ServiceError
from kgrag.core.settings import Settings
from kgrag.server.discovery import LOCAL_TOKEN_HEADER, running_server

Log = Callable[[str], None]

RETRIEVE = {"mode": "fused", "k": 5}
ASK = {"mode": "fused", "k": 3, "stream": False}
SEED = 20240601
BATCH_FILES = 8  # files per background ingestion job
POLL_S = 0.25  # job polls and RSS samples
REQUEST_TIMEOUT_S = 600.0  # an ask waits for the generations queued before it
MAX_REASONS = 5  # error reasons kept per route


# ---------------------------------------------------------------- the server
@dataclass(frozen=True)
class Target:
    """The server under test. `pid` and `local_token` are known only for this home's own
    server (from server.json): a remote one gets uploads and no RSS."""

    url: str
    headers: dict[str, str]
    pid: int | None
    local_token: str | None

    def http(self, timeout: float = REQUEST_TIMEOUT_S) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout)


def find_server(settings: Settings, url: str | None = None) -> Target:
    """`url`, else KGRAG_URL, else the server named by this home's server.json; it must
    answer /health, or this raises a ServiceError saying how to start one."""
    own = running_server(settings)
    chosen = url or settings.url or (own.url if own else None)
    if chosen is None:
        raise ServiceError(
            f"no kgrag server is running for {settings.home}: start `kgrag serve` "
            "(or give --url / KGRAG_URL)"
        )
    chosen = chosen.rstrip("/")
    mine = own is not None and own.url.rstrip("/") == chosen
    headers = {}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    token = own.local_token if own is not None and mine else None
    if token:
        headers[LOCAL_TOKEN_HEADER] = token
    target = Target(chosen, headers, own.pid if own is not None and mine else None, token)
    try:
        with target.http(timeout=10) as http:
            http.get("/health").raise_for_status()
    except httpx.HTTPError as exc:
        raise ServiceError(f"kgrag server at {chosen} is not answering: {exc}") from exc
    return target


def _reason(response: httpx.Response) -> str:
    """`HTTP 503: <the server's one-line detail>`."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return f"HTTP {response.status_code}: {detail if detail is not None else response.text[:200]}"


def _call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """The JSON body of a setup request; anything but a 2xx is a ServiceError."""
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ServiceError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
    if response.is_error:
        raise ServiceError(f"{method} {path}: {_reason(response)}")
    return response.json()


# ---------------------------------------------------------------- ingestion jobs
def submit_ingest(http: httpx.Client, target: Target, workspace: str, folder: Path) -> str:
    """Start an ingestion job of `folder`; the job id. By path when the server is this
    home's (the local token lets it read anywhere), else by uploading the files."""
    if target.local_token:
        body = _call(
            http, "POST", f"/v1/workspaces/{workspace}/ingest", json={"paths": [str(folder)]}
        )
    else:
        handles = [("files", (p.name, p.open("rb"))) for p in sorted(folder.glob("*.md"))]
        try:
            body = _call(http, "POST", f"/v1/workspaces/{workspace}/upload", files=handles)
        finally:
            for _, (_, handle) in handles:
                handle.close()
    return str(body["jobs"][0]["id"])


def wait_job(http: httpx.Client, job_id: str, log: Log | None = None) -> dict[str, Any]:
    """Poll a job until it is done (its final state); a failed job is a ServiceError."""
    said = time.monotonic()
    while True:
        job: dict[str, Any] = _call(http, "GET", f"/v1/jobs/{job_id}")
        if job["state"] == "failed":
            raise ServiceError(f"ingestion job {job_id} failed on the server: {job['error']}")
        if job["state"] == "done":
            return job
        if log is not None and time.monotonic() - said > 10:
            log(f"setup: job {job['state']}, {job['files_done']}/{job['files_total']} files")
            said = time.monotonic()
        time.sleep(POLL_S)


def setup_corpus(target: Target, corpus: BenchCorpus, log: Log | None = None) -> dict[str, Any]:
    """Make sure the benchmark corpus is ingested in its workspace on the server. By path
    the server skips unchanged files; an upload lands in a new folder each time, so a
    remote workspace that already holds the corpus is left as it is."""
    started = time.perf_counter()
    ws = corpus.workspace
    with target.http() as http:
        if not target.local_token:
            docs = http.get(f"/v1/workspaces/{ws}/documents")
            if docs.is_success and len(docs.json()) >= len(corpus.passages):
                return {"workspace": ws, "indexed": 0, "reused": True, "seconds": 0.0}
        if log is not None:
            log(f"setup: ingesting {len(corpus.passages)} passages into {ws!r} on {target.url}")
        job = wait_job(http, submit_ingest(http, target, ws, corpus.folder), log)
    report = job["report"] or {}
    if job["failed"]:
        raise ServiceError(f"{len(job['failed'])} passages failed to ingest: {job['failed'][:3]}")
    indexed = int(report.get("indexed", 0))
    seconds = time.perf_counter() - started
    return {"workspace": ws, "indexed": indexed, "reused": indexed == 0, "seconds": seconds}


def warm_up(target: Target, workspace: str, question: str) -> None:
    """One retrieve and one ask before timing, so model loading is not measured (and a
    server that cannot answer at all fails here, with its reason, not 24 times over)."""
    with target.http() as http:
        _call(
            http,
            "POST",
            f"/v1/workspaces/{workspace}/retrieve",
            json={"question": question, **RETRIEVE},
        )
        _call(http, "POST", f"/v1/workspaces/{workspace}/ask", json={"question": question, **ASK})


# ---------------------------------------------------------------- background passages
def background_passages(passages: list[Passage], seed: int = SEED) -> Iterator[tuple[str, str]]:
    """An endless, deterministic stream of (file name, markdown): the passages shuffled
    with `seed`, re-titled with the round number, reshuffled every round."""
    for round_no in itertools.count(1):
        order = list(passages)
        random.Random(seed + round_no).shuffle(order)
        for p in order:
            name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in p.id)[:40]
            yield name, f"# {p.title} (load copy {round_no})\n\n{p.text}\n"


def write_batches(passages: list[Passage], root: Path, size: int) -> Iterator[Path]:
    """Folders of `size` new markdown files each, `root/batch-0000`, ...; file i of the
    stream is always the same, so an existing file is kept as it is."""
    stream = enumerate(background_passages(passages))
    for batch_no in itertools.count():
        folder = root / f"batch-{batch_no:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i, (name, text) in itertools.islice(stream, size):
            target = folder / f"{i:06d}-{name}.md"
            if not target.exists():
                target.write_text(text, encoding="utf-8")
        yield folder


# ---------------------------------------------------------------- measurements
def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (a value that was measured); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * pct / 100))
    return ordered[rank - 1]


def latency_summary(values: list[float]) -> dict[str, float]:
    return {f"p{p}": percentile(values, p) for p in (50, 95, 99)}


@dataclass
class RouteStats:
    """What the threads of one route measured (appends are atomic under the GIL)."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    reasons: list[str] = field(default_factory=list)
    last_done: float = 0.0  # perf_counter of the last answer

    def error(self, reason: str) -> None:
        self.errors += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(reason)

    def summary(self, started: float) -> dict[str, Any]:
        """Throughput over the time from the start until this route's last answer (a
        request sent inside the window is waited for and counted)."""
        requests = len(self.latencies_ms) + self.errors
        elapsed = max(self.last_done - started, 1e-9)
        return {
            "requests": requests,
            "per_s": requests / elapsed if requests else 0.0,
            "latency_ms": latency_summary(self.latencies_ms),
            "errors": self.errors,
            "error_reasons": list(self.reasons),
        }


def query_worker(
    target: Target,
    path: str,
    extra: dict[str, Any],
    questions: list[str],
    turn: Iterator[int],
    stats: RouteStats,
    deadline: float,
) -> None:
    """Send requests to `path` back to back until `deadline` (perf_counter)."""
    with target.http() as http:
        while time.perf_counter() < deadline:
            question = questions[next(turn) % len(questions)]
            began = time.perf_counter()
            try:
                response = http.post(path, json={"question": question, **extra})
            except httpx.HTTPError as exc:
                stats.error(f"{type(exc).__name__}: {exc}")
            else:
                if response.is_success:
                    stats.latencies_ms.append((time.perf_counter() - began) * 1000)
                else:
                    stats.error(_reason(response))
            stats.last_done = time.perf_counter()


def rss_kb(pid: int, field_name: str = "VmRSS") -> int | None:
    """A memory figure (kB) from /proc/<pid>/status; None when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class RssSampler(threading.Thread):
    """The server's peak VmRSS while it runs (sampled every POLL_S)."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="kgrag-load-rss", daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while True:
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid) or 0)
            if self.stop.wait(POLL_S):
                return


@dataclass
class IngestLoad:
    """The background ingestion: batch jobs submitted while the window is open, one
    always queued behind the running one."""

    target: Target
    workspace: str
    batches: Iterator[Path]
    deadline: float
    batch_files: int
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> last seen
    sizes: dict[str, int] = field(default_factory=dict)  # id -> files submitted
    stats: RouteStats = field(default_factory=RouteStats)
    at_close: dict[str, Any] = field(default_factory=dict)

    def _open(self) -> list[str]:
        return [i for i, job in self.jobs.items() if job["state"] in ("queued", "running")]

    def _poll(self, http: httpx.Client) -> None:
        for job_id in self._open():
            try:
                response = http.get(f"/v1/jobs/{job_id}")
            except httpx.HTTPError as exc:
                self.stats.error(f"GET /v1/jobs/{job_id}: {type(exc).__name__}: {exc}")
                continue
            if not response.is_success:
                self.stats.error(f"GET /v1/jobs/{job_id}: {_reason(response)}")
                continue
            job = response.json()
            self.jobs[job_id] = job
            if job["state"] == "failed":
                self.stats.error(f"job {job_id} failed: {job['error']}")
            if job["state"] == "done":
                for path, why in job["failed"]:
                    self.stats.error(f"job {job_id}: {path}: {why}")

    def _submit(self, http: httpx.Client) -> None:
        folder = next(self.batches)
        try:
            job_id = submit_ingest(http, self.target, self.workspace, folder)
        except ServiceError as exc:
            self.stats.error(str(exc))
            return
        self.jobs[job_id] = {"state": "queued", "files_done": 0, "files_total": 0}
        self.sizes[job_id] = sum(1 for _ in folder.glob("*.md"))

    def snapshot(self) -> dict[str, Any]:
        """Files done and submitted so far, and the state of the ingestion as a whole."""
        states = {job["state"] for job in self.jobs.values()}
        state = next((s for s in ("failed", "running", "queued") if s in states), "done")
        return {
            "files_done": sum(job["files_done"] for job in self.jobs.values()),
            "files_total": sum(self.sizes.values()),
            "state": state if self.jobs else "none",
            "jobs": len(self.jobs),
        }

    def run(self, drain_s: float) -> None:
        """Keep the ingestion busy until the deadline, note where it stands then, and
        wait (at most `drain_s`) for the jobs still queued or running."""
        with self.target.http() as http:
            while time.perf_counter() < self.deadline:
                self._poll(http)
                if len(self._open()) < 2:
                    self._submit(http)
                time.sleep(POLL_S)
            self._poll(http)
            self.at_close = self.snapshot()
            until = time.perf_counter() + drain_s
            while self._open() and time.perf_counter() < until:
                time.sleep(POLL_S)
                self._poll(http)

    def job_ms(self) -> list[float]:
        """Run time of each finished job: jobs run one at a time on the server, so one
        starts when it was created or when the one before it finished (server clocks)."""
        times, previous = [], 0.0
        for job in sorted(self.jobs.values(), key=lambda j: j.get("created_at", 0.0)):
            if job.get("finished_at") is None:
                continue
            began = max(job["created_at"], previous)
            times.append((job["finished_at"] - began) * 1000)
            previous = job["finished_at"]
        return times

    def summary(self, seconds: float) -> dict[str, Any]:
        final = self.snapshot()
        return {
            "workspace": self.workspace,
            **self.at_close,
            "files_per_s": self.at_close.get("files_done", 0) / seconds,
            "batch_files": self.batch_files,
            "job_ms": latency_summary(self.job_ms()),
            "errors": self.stats.errors,
            "error_reasons": list(self.stats.reasons),
            "after_window": {k: final[k] for k in ("files_done", "files_total", "state")},
        }


# ---------------------------------------------------------------- the run


def query_threads(
    target: Target,
    workspace: str,
    questions: list[str],
    routes: dict[str, RouteStats],
    clients: int,
    ask_clients: int,
) -> list[Callable[[float], None]]:
    """One worker per client (not started): called with the deadline. Each route takes
    the questions round-robin across its threads."""
    workers: list[Callable[[float], None]] = []
    for route, extra, n in (("retrieve", RETRIEVE, clients), ("ask", ASK, ask_clients)):
        turn = itertools.count()
        path = f"/v1/workspaces/{workspace}/{route}"
        for _ in range(n):
            workers.append(
                functools.partial(query_worker, target, path, extra, questions, turn, routes[route])
            )
    return workers


def timed_window(
    workers: list[Callable[[float], None]],
    deadline: float,
    ingest: IngestLoad,
    sampler: RssSampler | None,
    drain_s: float,
) -> None:
    """Run the query workers and the background ingestion until `deadline`, sampling
    the server's memory until the last answer is in; then let the ingestion drain."""
    threads = [threading.Thread(target=w, args=(deadline,), name="kgrag-load") for w in workers]
    ingester = threading.Thread(target=ingest.run, args=(drain_s,), name="kgrag-load-ingest")
    if sampler:
        sampler.start()
    for thread in [ingester, *threads]:
        thread.start()
    for thread in threads:
        thread.join()
    if sampler:
        sampler.stop.set()
        sampler.join()
    ingester.join()


def reset_workspace(target: Target, workspace: str) -> None:
    with target.http() as http:
        _call(http, "DELETE", f"/v1/workspaces/{workspace}")


def run_load(
    data: Path,
    clients: int = 20,
    ask_clients: int = 4,
    seconds: float = 60.0,
    url: str | None = None,
    out: Path | None = None,
    limit: int | None = None,
    ingest_data: Path | None = None,
    batch_files: int = BATCH_FILES,
    settings: Settings | None = None,
    log: Log | None = None,
) -> dict[str, Any]:
    """Load a running server for `seconds` (see the module docstring); the numbers, also
    written to `out` as JSON."""
    if clients < 0 or ask_clients < 0 or clients + ask_clients == 0:
        raise ConfigError("need at least one retrieve or ask client")
    if seconds <= 0 or batch_files < 1:
        raise ConfigError("--seconds and --ingest-batch must be positive")
    settings = settings or Settings()
    target = find_server(settings, url)
    corpus = prepare(data, settings, limit)
    questions = [q.question for q in corpus.questions]
    if not questions:
        raise ConfigError(f"{data}: no questions")
    setup = setup_corpus(target, corpus, log)
    warm_up(target, corpus.workspace, questions[0])

    source = load_corpus(ingest_data) if ingest_data else corpus.passages
    source_name = ingest_data.name if ingest_data else corpus.name
    background = f"{corpus.workspace[:50]}-load"
    reset_workspace(target, background)
    root = settings.home / "bench" / f"load-{source_name[:30]}-seed{SEED}-b{batch_files}"

    started = time.perf_counter()
    deadline = started + seconds
    ingest = IngestLoad(
        target, background, write_batches(source, root, batch_files), deadline, batch_files
    )
    routes = {"retrieve": RouteStats(), "ask": RouteStats()}
    workers = query_threads(target, corpus.workspace, questions, routes, clients, ask_clients)
    sampler = RssSampler(target.pid) if target.pid and rss_kb(target.pid) else None
    timed_window(workers, deadline, ingest, sampler, drain_s=max(60.0, seconds))

    hwm = rss_kb(target.pid, "VmHWM") if target.pid else None
    result: dict[str, Any] = {
        "server": target.url,
        "seconds": seconds,
        "clients": clients,
        "ask_clients": ask_clients,
        "workspace": corpus.workspace,
        "questions": len(questions),
        "setup": setup,
        "routes": {name: stats.summary(started) for name, stats in routes.items()},
        "ingest": ingest.summary(seconds),
        "peak_rss_mb": sampler.peak_kb / 1024 if sampler else None,
        "hwm_rss_mb": hwm / 1024 if hwm else None,
        "server_pid": target.pid if sampler else None,
    }
    if out is not None:
        write_json(result, out)
    return result


# ---------------------------------------------------------------- printing
def render(result: dict[str, Any]) -> str:
    """A markdown table (one row per route and one for the ingestion jobs), then the
    ingestion progress, the server's memory and the first error reasons."""
    header = "| route | requests | per s | p50 ms | p95 ms | p99 ms | errors |"
    lines = [header, "|" + "---|" * 7]
    for name, route in result["routes"].items():
        lat = route["latency_ms"]
        lines.append(
            f"| {name} | {route['requests']} | {route['per_s']:.2f} | {lat['p50']:.0f} | "
            f"{lat['p95']:.0f} | {lat['p99']:.0f} | {route['errors']} |"
        )
    ing = result["ingest"]
    job = ing["job_ms"]
    lines.append(
        f"| ingest (jobs of {ing['batch_files']} files) | {ing['jobs']} jobs | "
        f"{ing['files_per_s']:.2f} files | {job['p50']:.0f} | {job['p95']:.0f} | "
        f"{job['p99']:.0f} | {ing['errors']} |"
    )
    after = ing["after_window"]
    lines += [
        "",
        f"server {result['server']}, {result['seconds']:g} s window, {result['clients']} retrieve "
        f"+ {result['ask_clients']} ask clients on {result['workspace']!r} "
        f"({result['questions']} questions)",
        f"ingestion into {ing['workspace']!r} during the window: {ing['files_done']}/"
        f"{ing['files_total']} files done, state {ing['state']} at the close "
        f"({after['files_done']}/{after['files_total']}, {after['state']} after it); "
        "its latencies are the run time of each job",
    ]
    if result["peak_rss_mb"] is not None:
        lines.append(
            f"server peak RSS during the run: {result['peak_rss_mb']:.0f} MB (pid "
            f"{result['server_pid']}, VmRSS sampled every {POLL_S:g} s; VmHWM since the server "
            f"started: {result['hwm_rss_mb']:.0f} MB)"
        )
    else:
        lines.append("server peak RSS: not measured (a remote server: no pid of this machine)")
    for name, route in [*result["routes"].items(), ("ingest", ing)]:
        for reason in route["error_reasons"]:
            lines.append(f"error ({name}): {reason}")
    return "\n".join(lines) + "\n"
