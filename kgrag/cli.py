"""`kgrag` command line: a thin layer over `Client` and the service launcher.

Expected failures (missing model, server, workspace, bad path) print one line saying
what to do and exit with status 1; nothing else is caught.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="kgrag: knowledge-graph-augmented RAG", no_args_is_help=True)
graph_app = typer.Typer(help="Inspect and export the graph", no_args_is_help=True)
app.add_typer(graph_app, name="graph")
bench_app = typer.Typer(
    help="Benchmarks: numbers printed and written as JSON", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")

console = Console()
err = Console(stderr=True)

Workspace = Annotated[str | None, typer.Option("--workspace", "-w", help="workspace name")]
T = TypeVar("T")


def _quiet_prefect() -> None:
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def _guard(action: Callable[[], T]) -> T:
    """Run `action`; turn the expected, user-fixable errors into one clear line."""
    from extractors.errors import ParseError
    from kgrag.embed import ModelNotFoundError
    from kgrag.llm import LLMNotFoundError
    from kgrag.runtime import WorkspaceNotFoundError
    from kgrag.services import ServiceError
    from kgrag.stores import StoreUnavailableError
    from retrievers.rerank import RerankerNotFoundError

    expected = (
        ParseError,
        ModelNotFoundError,
        LLMNotFoundError,
        WorkspaceNotFoundError,
        ServiceError,
        StoreUnavailableError,
        RerankerNotFoundError,
        FileNotFoundError,
        LookupError,
        ValueError,
    )
    try:
        return action()
    except expected as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def _client(workspace: str | None) -> Any:
    from kgrag.client import Client

    return _guard(lambda: Client(workspace=workspace))


# ---------------------------------------------------------------- services
@app.command()
def up() -> None:
    """Start the local FalkorDB server (127.0.0.1, data under $KGRAG_HOME)."""
    from kgrag.services import start
    from kgrag.settings import Settings
    from kgrag.stores import local_server

    settings = Settings()
    if settings.uses_neo4j:
        console.print("NEO4J_URI is set: kgrag uses Neo4j and starts nothing.")
        return
    server = local_server(settings)
    pid = _guard(lambda: start(server))
    console.print(
        f"FalkorDB listening on {server.host}:{server.port} (pid {pid}), data in {server.data_dir}"
    )


@app.command()
def down() -> None:
    """Stop the local FalkorDB server started by `kgrag up` (or by a client)."""
    from kgrag.services import stop
    from kgrag.settings import Settings
    from kgrag.stores import local_server

    server = local_server(Settings())
    console.print("stopped" if stop(server) else "no local server was running")


@app.command()
def status(
    workspace: Workspace = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Graph backend, vector store, models and counts for a workspace."""
    info = _guard(lambda: _client(workspace).status())
    if as_json:
        console.print_json(json.dumps(info, default=str))
        return
    table = Table(title=f"kgrag workspace {info['workspace']!r}", show_header=False)
    table.add_row("home", info["home"])
    table.add_row("graph", f"{info['graph']['backend']} at {info['graph']['location']}")
    for name, n in info["graph"]["counts"].items():
        table.add_row(f"  {name}", str(n))
    table.add_row("vectors", f"{info['vectors']['backend']} at {info['vectors']['location']}")
    table.add_row("  units", str(info["vectors"]["units"]))
    config = info.get("config") or {}
    table.add_row("embedding model", str(config.get("embed_model", "-")))
    table.add_row("chunker", str(config.get("chunker", "-")))
    for stage, backend in (info.get("extractors") or {}).items():
        table.add_row(f"extractor {stage}", backend)
    console.print(table)


# ---------------------------------------------------------------- data
@app.command()
def ingest(path: Path, workspace: Workspace = None) -> None:
    """Ingest a file or folder (txt, md, html, pdf, docx); re-running is a no-op."""
    _quiet_prefect()
    client = _client(workspace)
    report = _guard(lambda: client.ingest(path, show_progress=True))
    console.print(
        f"indexed {report.indexed}, unchanged {report.unchanged}, replaced {report.replaced}, "
        f"failed {len(report.failed)}; {report.chunks} chunks in {report.seconds:.1f}s"
    )
    for failed_path, reason in report.failed:
        err.print(f"[yellow]skipped[/yellow] {failed_path}: {reason}")


@app.command()
def delete(target: str, workspace: Workspace = None) -> None:
    """Delete a document by path or id, with its chunks, vectors and orphaned entities."""
    _quiet_prefect()
    ids = _guard(lambda: _client(workspace).delete(target))
    console.print(f"deleted {len(ids)} document(s): {', '.join(ids)}")


@app.command()
def prune(folder: Path, workspace: Workspace = None) -> None:
    """Delete documents whose files under FOLDER are gone."""
    _quiet_prefect()
    from flows.delete import prune_flow

    client = _client(workspace)
    ids = _guard(lambda: prune_flow(str(folder), client.workspace, client.settings))
    console.print(f"pruned {len(ids)} document(s)")


@app.command()
def reset(workspace: Workspace = None, yes: Annotated[bool, typer.Option("--yes")] = False) -> None:
    """Delete everything in a workspace."""
    client = _client(workspace)
    if not yes:
        typer.confirm(f"Delete all data of workspace {client.workspace!r}?", abort=True)
    _guard(client.reset)
    console.print(f"workspace {client.workspace!r} is empty")


# ---------------------------------------------------------------- queries
Mode = Annotated[str | None, typer.Option("--mode", "-m", help="dense|keyword|hybrid|graph|fused")]


@app.command()
def retrieve(
    question: str,
    workspace: Workspace = None,
    k: Annotated[int, typer.Option("-k")] = 5,
    mode: Mode = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the top-k chunks for a question (no generation)."""
    result = _guard(lambda: _client(workspace).search(question, k, mode))
    if as_json:
        payload = {
            "hits": [asdict(h) for h in result.hits],
            "facts": result.facts,
            "timings": result.timings,
        }
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    for n, hit in enumerate(result.hits, start=1):
        console.print(
            f"[bold][{n}][/bold] {hit.score:.4f} {hit.source} {hit.path} ({hit.chunk_id})"
        )
        console.print(f"    {hit.text[:200].strip()}")
    for fact in result.facts:
        console.print(f"  fact: {fact}")


@app.command()
def ask(
    question: str,
    workspace: Workspace = None,
    k: Annotated[int | None, typer.Option("-k")] = None,
    mode: Mode = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Answer a question from the workspace, citing the sources used."""
    client = _client(workspace)

    def stream(piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    answer = _guard(lambda: client.ask(question, k, mode, on_token=None if as_json else stream))
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write("\n\n")
    if not answer.citations:
        console.print("[dim]no sources cited[/dim]")
    for c in answer.citations:
        console.print(
            f"[{c.n}] {c.title or c.path} ({c.chunk_id}, {c.source}, score {c.score:.3f})"
        )
    console.print(f"[dim]{answer.timings.get('total_ms', 0):.0f} ms[/dim]")


@app.command("train-ner")
def train_ner(
    data: Path,
    out: Annotated[Path, typer.Option("--out")],
    lang: Annotated[str, typer.Option("--lang")] = "zh",
    epochs: Annotated[int, typer.Option("--epochs")] = 50,
) -> None:
    """Train a HanLP character NER on your labelled jsonl; use it via KGRAG_HANLP_NER=OUT."""
    if lang != "zh":
        err.print("error: only --lang zh is supported (English uses spaCy pipelines)")
        raise typer.Exit(1)
    from extractors.train_ner import train_zh_ner

    saved = _guard(lambda: train_zh_ner(data, out, epochs=epochs))
    console.print(f"saved to {saved}; set KGRAG_HANLP_NER={saved}")


# ---------------------------------------------------------------- graph
@graph_app.command("export")
def graph_export(
    out: Path,
    workspace: Workspace = None,
    fmt: Annotated[str, typer.Option("--format")] = "json",
) -> None:
    """Export the workspace graph as GraphML or JSON."""
    from kg.export import export_graph

    client = _client(workspace)
    rt = _guard(lambda: client._runtime())
    count = _guard(lambda: export_graph(rt.graph, out, fmt))
    console.print(f"wrote {count['nodes']} nodes and {count['edges']} edges to {out}")


# ---------------------------------------------------------------- benchmarks
Data = Annotated[Path, typer.Option("--data", help="folder with corpus.jsonl, questions.jsonl")]
Out = Annotated[Path | None, typer.Option("--out", help="JSON file to write")]
Limit = Annotated[int | None, typer.Option("--limit", help="first N questions")]


def _csv(text: str, cast: Callable[[str], T]) -> list[T]:
    return [cast(part.strip()) for part in text.split(",") if part.strip()]


@bench_app.command("retrieval")
def bench_retrieval(
    data: Data,
    modes: Annotated[str, typer.Option("--modes")] = "dense,keyword,hybrid,graph,fused",
    ks: Annotated[str, typer.Option("--k")] = "1,2,5,10",
    limit: Limit = None,
    out: Out = None,
    reuse: Annotated[bool, typer.Option("--reuse/--no-reuse")] = True,
) -> None:
    """Recall@k, all-found@k, MRR, NDCG@10 and latency per mode, with BM25/dense baselines."""
    _quiet_prefect()
    from bench.retrieval import run_retrieval

    result = _guard(lambda: run_retrieval(data, _csv(modes, str), _csv(ks, int), limit, out, reuse))
    ing = result["ingest"]
    if ing["indexed"]:
        console.print(
            f"ingest: {ing['passages']} passages, {ing['indexed']} indexed in "
            f"{ing['seconds']:.1f}s ({ing['passages_per_s']:.1f}/s); stages: "
            + ", ".join(f"{k} {v:.1f}s" for k, v in ing["stages"].items())
        )
    else:
        console.print(
            f"ingest: workspace reused, {ing['passages']} passages unchanged (checked in "
            f"{ing['seconds']:.1f}s); --no-reuse re-ingests and times it"
        )
    console.print(result["table"], markup=False)
    if out:
        console.print(f"wrote {out} and {result.get('chart')}")


@bench_app.command("answers")
def bench_answers(
    data: Data,
    limit: Limit = 20,
    mode: Annotated[str, typer.Option("--mode")] = "fused",
    out: Out = None,
) -> None:
    """Exact match, token F1 and supporting-citation rate of generated answers."""
    _quiet_prefect()
    from bench.retrieval import run_answers

    r = _guard(lambda: run_answers(data, limit, mode, out))
    header = "| questions | EM | token F1 | cites supporting | refused | p50 ms |"
    cells = [
        str(r["questions"]),
        *(f"{100 * r[m]:.1f}" for m in ("exact_match", "token_f1", "cites_supporting", "refused")),
        f"{r['latency_ms']['p50']:.0f}",
    ]
    table = f"{header}\n|{'---|' * len(cells)}\n| {' | '.join(cells)} |"
    console.print(table, markup=False)


@bench_app.command("extract")
def bench_extract(
    out: Out = None,
    passages: Annotated[int, typer.Option("--passages")] = 200,
    data: Annotated[Path | None, typer.Option("--data")] = None,
) -> None:
    """Entity and triple precision/recall/F1 per language, and extraction throughput."""
    from bench.extract import main as extract_main

    args = ["--passages", str(passages)]
    if out:
        args += ["--out", str(out)]
    if data:
        args += ["--corpus", str(data)]
    extract_main(args)


@bench_app.command("graph")
def bench_graph(
    data: Annotated[Path | None, typer.Option("--data")] = None,
    limit: Limit = None,
    out: Out = None,
) -> None:
    """Graph write rows/s (10k mentions) and sampling + PPR latency on a benchmark set."""
    _quiet_prefect()
    from bench.graph import render, run_graph_bench

    result = _guard(lambda: run_graph_bench(data, limit, out))
    console.print(render(result), markup=False)


def main() -> None:  # pragma: no cover - console entry point
    app()
