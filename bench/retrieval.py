"""`kgrag bench retrieval`: kgrag's own retrieval modes, through the public `Client`,
against BM25 and brute-force dense baselines computed in the same run. Its corpus
preparation and ingestion serve `kgrag bench answers` (`kgrag.bench.answers`) too.

Each passage becomes one markdown document (`# title` + text) in a workspace named after
the corpus content, ingested by the real Prefect flow; `reuse=True` keeps a workspace whose
corpus is unchanged, so tuning runs skip ingestion. With several task runners
(`runners=["default", "dask"]`) the corpus is ingested once per runner, each into its own
workspace, and the ingest rates are reported side by side; retrieval is measured on the
first runner's workspace.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from kgrag.bench.baselines import bm25_rankings, dense_bruteforce_rankings
from kgrag.bench.data import Passage, Question, load_corpus, load_questions
from kgrag.bench.metrics import ranks_of_supporting, summarize
from kgrag.bench.report import markdown_table, plot_recall, write_json
from kgrag.client import Client
from kgrag.core.errors import ConfigError
from kgrag.core.settings import Settings

DEFAULT_MODES = ["dense", "keyword", "hybrid", "graph", "fused"]
DEFAULT_KS = [1, 2, 5, 10]


@dataclass
class BenchCorpus:
    """A benchmark corpus materialised as files, and the workspace that indexes it."""

    name: str
    passages: list[Passage]
    questions: list[Question]
    folder: Path
    workspace: str

    def passage_of(self, path: str) -> str:
        return Path(path).stem


def _fingerprint(passages: list[Passage]) -> str:
    digest = hashlib.sha256()
    for p in passages:
        digest.update(f"{p.id}\x1f{p.title}\x1f{p.text}\x1e".encode())
    return digest.hexdigest()[:10]


def _safe_name(passage_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in passage_id)


def prepare(data: Path, settings: Settings, limit: int | None) -> BenchCorpus:
    passages = load_corpus(data)
    questions = load_questions(data, limit)
    workspace = f"bench-{_safe_name(data.name)[:30]}-{_fingerprint(passages)}"
    folder = settings.home / "bench" / workspace
    folder.mkdir(parents=True, exist_ok=True)
    renamed = []
    for p in passages:
        name = _safe_name(p.id)
        renamed.append(Passage(name, p.title, p.text))
        target = folder / f"{name}.md"
        if not target.exists():
            target.write_text(f"# {p.title}\n\n{p.text}\n", encoding="utf-8")
    ids = {p.id: _safe_name(p.id) for p in passages}
    questions = [
        Question(q.id, q.question, q.answer, [ids.get(s, s) for s in q.supporting])
        for q in questions
    ]
    return BenchCorpus(data.name, renamed, questions, folder, workspace)


TASK_RUNNERS: tuple[str, ...] = get_args(Settings.model_fields["task_runner"].annotation)


def ingest(
    corpus: BenchCorpus,
    settings: Settings,
    reuse: bool,
    runner: str | None = None,
    workspace: str | None = None,
) -> dict[str, Any]:
    """Ingest the corpus (into `workspace`, default the corpus's) with the task runner
    `runner` (default: the settings'), timed after this process's start-up: its stores,
    models and Prefect API are made ready first (`startup_s`), so that the rate measures
    ingestion. A Dask runner's local cluster and its workers' models are per ingestion,
    so they are timed."""
    runner = runner or settings.task_runner
    if runner not in TASK_RUNNERS:
        raise ConfigError(f"unknown task runner {runner!r}; choose from {', '.join(TASK_RUNNERS)}")
    settings = settings.model_copy(update={"task_runner": runner})
    client = Client(workspace=workspace or corpus.workspace, settings=settings)
    if not reuse:
        client.reset()
    started = time.perf_counter()
    _ = client._runtime(create=True, sample=corpus.folder).indexer
    _start_prefect_api()
    startup = time.perf_counter() - started
    started = time.perf_counter()
    report = client.ingest(corpus.folder, show_progress=True)
    seconds = time.perf_counter() - started
    if report.failed:
        raise RuntimeError(f"{len(report.failed)} passages failed to ingest: {report.failed[:3]}")
    return {
        "runner": runner,
        "workspace": client.workspace,
        "passages": len(corpus.passages),
        "indexed": report.indexed,
        "startup_s": startup,
        "seconds": seconds,
        "passages_per_s": report.indexed / seconds if report.indexed else 0.0,
        "stages": dict(report.stages),
    }


def _start_prefect_api() -> None:
    """Connect to the Prefect API, starting the temporary server when none is set."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as api:
        api.api_healthcheck()


def ingest_runners(
    corpus: BenchCorpus, settings: Settings, reuse: bool, runners: list[str] | None
) -> dict[str, dict[str, Any]]:
    """`ingest` once per task runner, the first into the corpus's workspace and each other
    into its own (`<workspace>-<runner>`), in order."""
    runs: dict[str, dict[str, Any]] = {}
    for runner in dict.fromkeys(runners or [settings.task_runner]):
        workspace = f"{corpus.workspace}-{runner}" if runs else corpus.workspace
        runs[runner] = ingest(corpus, settings, reuse, runner, workspace)
    return runs


def _ranked_passages(
    corpus: BenchCorpus, client: Client, question: str, k: int, mode: str
) -> list[str]:
    hits = client.retrieve(question, k * 3, mode)
    ranked: dict[str, None] = {}
    for hit in hits:
        ranked.setdefault(corpus.passage_of(hit.path), None)
    return list(ranked)[:k]


def run_retrieval(
    data: Path,
    modes: list[str] | None = None,
    ks: list[int] | None = None,
    limit: int | None = None,
    out: Path | None = None,
    reuse: bool = True,
    settings: Settings | None = None,
    runners: list[str] | None = None,
) -> dict[str, Any]:
    """`runners`: task runners to ingest with, each into its own workspace (default: the
    settings' runner); retrieval is measured on the first one's."""
    settings = settings or Settings()
    modes = modes or DEFAULT_MODES
    ks = sorted(ks or DEFAULT_KS)
    top = max(max(ks), 10)
    corpus = prepare(data, settings, limit)
    runs = ingest_runners(corpus, settings, reuse, runners)
    ingest_info = next(iter(runs.values()))
    client = Client(workspace=corpus.workspace, settings=settings)
    client.retrieve(corpus.questions[0].question, 1, "fused")  # load models before timing

    result: dict[str, Any] = {
        "dataset": corpus.name,
        "ingest": ingest_info,
        "ingest_by_runner": runs,
        "modes": {},
        "baselines": {},
        "questions": [],
    }
    for mode in modes:
        per_question: list[tuple[list[str], list[str]]] = []
        latencies: list[float] = []
        for q in corpus.questions:
            started = time.perf_counter()
            ranked = _ranked_passages(corpus, client, q.question, top, mode)
            latencies.append((time.perf_counter() - started) * 1000)
            per_question.append((ranked, q.supporting))
            result["questions"].append(
                {
                    "id": q.id,
                    "mode": mode,
                    "ranks_of_supporting": ranks_of_supporting(ranked, q.supporting),
                }
            )
        result["modes"][mode] = summarize(per_question, ks, latencies)

    embedder = client._runtime().embedder
    for name, (rankings, latencies) in {
        "bm25": bm25_rankings(corpus.passages, corpus.questions, top),
        "dense_bruteforce": dense_bruteforce_rankings(
            corpus.passages, corpus.questions, embedder, top
        ),
    }.items():
        pairs = [(r, q.supporting) for r, q in zip(rankings, corpus.questions)]
        result["baselines"][name] = summarize(pairs, ks, latencies)

    table = markdown_table({**result["modes"], **result["baselines"]}, ks)
    result["table"] = table
    if out is not None:
        write_json(result, out)
        result["chart"] = str(
            plot_recall(
                {**result["modes"], **result["baselines"]},
                ks,
                out.with_suffix(".png"),
                title=f"Recall@k on {corpus.name}",
            )
        )
    return result
