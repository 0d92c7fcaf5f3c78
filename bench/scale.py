"""`kgrag bench scale`: how ingestion and retrieval cost grow with the workspace.

One workspace is grown step by step to each size (`bench.synth`: the benchmark passages,
then synthetic ones recombined from their sentences), through the real ingest flow. At
each size:

- `ingest_passages_per_s`: the step's new passages over its ingest time (the flow also
  walks the files already there, as a user's re-run over a growing folder does);
- `noop_reingest_s`: the same folder ingested again, nothing new;
- `rss_mb`: this process's peak resident memory so far (VmHWM);
- `disk_mb`: the graph server's folder (after an AOF rewrite) and the Qdrant folder
  (closed: SQLite has folded its write-ahead log in);
- `restart_s`: a fresh process that opens the workspace and answers one fused
  retrieval, from its start to its exit;
- `modes`: latency p50/p95 (and recall) per retrieval mode over the questions, which
  keep their supporting passages at every size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from itertools import islice, zip_longest
from pathlib import Path
from typing import Any

import redis

from kgrag.bench.data import Passage, Question, load_corpus, load_questions
from kgrag.bench.load import rss_kb
from kgrag.bench.metrics import summarize
from kgrag.bench.report import write_json
from kgrag.bench.retrieval import BenchCorpus, ingest
from kgrag.bench.scale_report import plot_scale
from kgrag.bench.synth import growing_corpus
from kgrag.client import Client
from kgrag.core.settings import Settings
from kgrag.retrievers.vector_index import close_shared_clients
from kgrag.services import compact
from kgrag.stores import local_server

DEFAULT_MODES = ["dense", "keyword", "graph", "fused"]
KS = [5, 10]
# The restart probe: what a user's fresh process does to answer from the workspace.
_FIRST_ANSWER = (
    "import sys\n"
    "from kgrag.client import Client\n"
    "print(len(Client(workspace=sys.argv[1]).retrieve(sys.argv[2], 10, 'fused')))\n"
)


def load_sets(dirs: Sequence[Path], questions: int) -> tuple[list[Passage], list[Question]]:
    """Every passage of `dirs`, and their first `questions` questions, taken from each set
    in turn."""
    passages: list[Passage] = []
    per_set: list[list[Question]] = []
    for folder in dirs:
        passages += load_corpus(folder)
        per_set.append(load_questions(folder))
    if len({p.id for p in passages}) != len(passages):
        raise ValueError(f"passage ids repeat across {', '.join(str(d) for d in dirs)}")
    every = [q for group in zip_longest(*per_set) for q in group if q is not None]
    return passages, every[:questions]


def run_scale(
    dirs: Sequence[Path],
    sizes: Sequence[int],
    questions: int = 100,
    seed: int = 0,
    modes: Sequence[str] = DEFAULT_MODES,
    out: Path | None = None,
    settings: Settings | None = None,
    log: Callable[[str], None] = lambda line: None,
    resume: bool = False,
) -> dict[str, Any]:
    """Grow the workspace `scale-<seed>` (reset first) through `sizes` passages, measuring
    each; `log` hears of each step as it ends. JSON and a chart beside `out`, rewritten
    as each step ends. With `resume`, the workspace a previous run of the same seed left
    is grown instead of reset (its passages are the same ones), so the first size's
    ingest counts only the passages it adds: a run to 100,000 need not ingest again the
    30,000 an earlier one did."""
    settings = settings or Settings()
    sizes = sorted(set(sizes))
    if not sizes or sizes[0] <= 0:
        raise ValueError(f"sizes must be positive, got {sizes}")
    passages, asked = load_sets(dirs, questions)
    if not asked:
        raise ValueError("no questions to time retrieval with")
    needed = len({s for q in asked for s in q.supporting})  # the corpus starts with them
    if sizes[0] < needed:
        raise ValueError(
            f"the smallest size, {sizes[0]}, cannot hold the questions' supporting "
            f"passages: use a size of at least {needed} or fewer --questions"
        )
    stream = list(islice(growing_corpus(passages, asked, seed), sizes[-1]))
    workspace = f"scale-{seed}"
    folder = settings.home / "bench" / workspace
    if not resume:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = BenchCorpus("scale", [], asked, folder, workspace)
    result: dict[str, Any] = {
        "workspace": workspace,
        "data": [str(d) for d in dirs],
        "seed": seed,
        "questions": len(asked),
        "sizes": [],
    }
    for size in sizes:
        _write(stream[len(corpus.passages) : size], folder)
        corpus.passages = stream[:size]
        step = measure(corpus, settings, modes, fresh=not (result["sizes"] or resume))
        result["sizes"].append(step)
        log(step_line(step))
        if out is not None:  # after each step: a long run stopped early keeps its sizes
            write_json(result, out)
            result["chart"] = str(plot_scale(result, out.with_suffix(".png")))
    return result


def _write(passages: Sequence[Passage], folder: Path) -> None:
    """Each passage as a file; one already there with the same text is left alone (its
    modification time too, so that a resumed run does not read it again)."""
    for p in passages:
        path, text = folder / f"{_file_name(p.id)}.md", f"# {p.title}\n\n{p.text}\n"
        if not path.is_file() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")


def _file_name(passage_id: str) -> str:
    """A file name for any id, stable and distinct: the id itself when it is safe."""
    if all(ch.isalnum() or ch in "-_" for ch in passage_id):
        return passage_id
    return "id-" + hashlib.sha256(passage_id.encode()).hexdigest()[:16]


def measure(
    corpus: BenchCorpus, settings: Settings, modes: Sequence[str], fresh: bool
) -> dict[str, Any]:
    """Ingest what the folder gained (into a reset workspace when `fresh`), then measure."""
    grown = ingest(corpus, settings, reuse=not fresh)
    noop = ingest(corpus, settings, reuse=True)
    if noop["indexed"]:
        raise RuntimeError(f"re-ingesting an unchanged folder indexed {noop['indexed']}")
    peak = rss_kb(os.getpid(), "VmHWM")
    restart = restart_seconds(settings, corpus.workspace, corpus.questions[0].question)
    return {
        "passages": len(corpus.passages),
        "added": grown["indexed"],
        "ingest_s": grown["seconds"],
        "ingest_passages_per_s": grown["passages_per_s"],
        "ingest_stages": grown["stages"],
        "rss_mb": peak / 1024 if peak else None,
        "disk_mb": disk_mb(settings),  # Qdrant's files closed: their WAL folded in
        "noop_reingest_s": noop["seconds"],
        "restart_s": restart,
        "modes": mode_latencies(corpus, settings, modes),
    }


def disk_mb(settings: Settings) -> dict[str, float | None]:
    """MB on disk of the graph server's folder, its log rewritten first so that it holds
    the data once (None on Neo4j), and of the Qdrant folder (None on a Qdrant server)."""
    graph = None
    if not settings.uses_neo4j:
        server = local_server(settings)
        compact(server)
        with redis.Redis(host=server.host, port=server.port) as ask:
            graph = _folder_mb(Path(ask.config_get("dir")["dir"]))  # where it writes
    vectors = None if settings.qdrant_url else _folder_mb(settings.qdrant_path)
    return {"graph": graph, "vectors": vectors}


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def restart_seconds(settings: Settings, workspace: str, question: str) -> float:
    """Seconds for a fresh process to open the workspace and answer `question`, from its
    start to its exit. This process lets go of the Qdrant folder first (local mode allows
    one process), and opens it again at its next query."""
    Client(workspace=workspace, settings=settings).close()
    if not settings.qdrant_url:
        close_shared_clients(settings.qdrant_path)
    env = {
        **os.environ,
        "KGRAG_HOME": str(settings.home),
        "KGRAG_FALKORDB_HOST": settings.falkordb_host,
        "KGRAG_FALKORDB_PORT": str(settings.falkordb_port),
        "KGRAG_FALKORDB_AUTOSTART": str(settings.falkordb_autostart).lower(),
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_ANSWER, workspace, question],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines or not int(lines[-1]):
        raise RuntimeError(f"the restarted process found no answer: {done.stderr[-2000:]}")
    return seconds


def mode_latencies(
    corpus: BenchCorpus, settings: Settings, modes: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per mode, `summarize` over the questions (10 passages ranked from 30 hits, as
    `kgrag bench retrieval` does): recall at `KS` and latency p50/p95."""
    client = Client(workspace=corpus.workspace, settings=settings)
    client.retrieve(corpus.questions[0].question, 1, "fused")  # open stores, load models
    top = max(KS)
    out: dict[str, dict[str, Any]] = {}
    for mode in modes:
        ranked: list[tuple[list[str], list[str]]] = []
        latencies: list[float] = []
        for q in corpus.questions:
            started = time.perf_counter()
            hits = client.retrieve(q.question, 3 * top, mode)
            latencies.append((time.perf_counter() - started) * 1000)
            found = list(dict.fromkeys(corpus.passage_of(h.path) for h in hits))[:top]
            ranked.append((found, [_file_name(s) for s in q.supporting]))
        out[mode] = summarize(ranked, KS, latencies)
    return out


def step_line(step: dict[str, Any]) -> str:
    """One step, as the CLI prints it when it ends."""
    disk = step["disk_mb"]
    fused = step["modes"].get("fused", next(iter(step["modes"].values()), None))
    latency = f"; fused p50 {fused['latency_ms']['p50']:.0f} ms" if fused else ""
    return (
        f"{step['passages']} passages: +{step['added']} at {step['ingest_passages_per_s']:.1f}/s, "
        f"no-op re-ingest {step['noop_reingest_s']:.1f}s, restart {step['restart_s']:.1f}s, "
        f"RSS {step['rss_mb'] or 0:.0f} MB, disk graph {disk['graph'] or 0:.0f} MB / vectors "
        f"{disk['vectors'] or 0:.0f} MB{latency}"
    )
