"""`kgrag bench ...`: the benchmark commands. Registered through the `kgrag.commands`
entry point, so the library never imports the benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from kgrag.cli_support import console, guard, quiet_prefect

app = typer.Typer(help="Benchmarks: numbers printed and written as JSON", no_args_is_help=True)

Data = Annotated[Path, typer.Option("--data", help="folder with corpus.jsonl, questions.jsonl")]
Out = Annotated[Path | None, typer.Option("--out", help="JSON file to write")]
Limit = Annotated[int | None, typer.Option("--limit", help="first N questions")]
T = TypeVar("T")


def _csv(text: str, cast: Callable[[str], T]) -> list[T]:
    return [cast(part.strip()) for part in text.split(",") if part.strip()]


@app.command("retrieval")
def bench_retrieval(
    data: Data,
    modes: Annotated[str, typer.Option("--modes")] = "dense,keyword,hybrid,graph,fused",
    ks: Annotated[str, typer.Option("--k")] = "1,2,5,10",
    limit: Limit = None,
    out: Out = None,
    reuse: Annotated[bool, typer.Option("--reuse/--no-reuse")] = True,
) -> None:
    """Recall@k, all-found@k, MRR, NDCG@10 and latency per mode, with BM25/dense baselines."""
    quiet_prefect()
    from kgrag.bench.retrieval import run_retrieval

    result = guard(lambda: run_retrieval(data, _csv(modes, str), _csv(ks, int), limit, out, reuse))
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


@app.command("answers")
def bench_answers(
    data: Data,
    limit: Limit = 20,
    mode: Annotated[str, typer.Option("--mode")] = "fused",
    out: Out = None,
) -> None:
    """Exact match, token F1 and supporting-citation rate of generated answers."""
    quiet_prefect()
    from kgrag.bench.retrieval import run_answers

    r = guard(lambda: run_answers(data, limit, mode, out))
    header = "| questions | EM | token F1 | cites supporting | refused | p50 ms |"
    cells = [
        str(r["questions"]),
        *(f"{100 * r[m]:.1f}" for m in ("exact_match", "token_f1", "cites_supporting", "refused")),
        f"{r['latency_ms']['p50']:.0f}",
    ]
    table = f"{header}\n|{'---|' * len(cells)}\n| {' | '.join(cells)} |"
    console.print(table, markup=False)


@app.command("extract")
def bench_extract(
    out: Out = None,
    passages: Annotated[int, typer.Option("--passages")] = 200,
    data: Annotated[Path | None, typer.Option("--data")] = None,
) -> None:
    """Entity and triple precision/recall/F1 per language, and extraction throughput."""
    from kgrag.bench.extract import main as extract_main

    args = ["--passages", str(passages)]
    if out:
        args += ["--out", str(out)]
    if data:
        args += ["--corpus", str(data)]
    extract_main(args)


@app.command("graph")
def bench_graph(
    data: Annotated[Path | None, typer.Option("--data")] = None,
    limit: Limit = None,
    out: Out = None,
) -> None:
    """Graph write rows/s (10k mentions) and sampling + PPR latency on a benchmark set."""
    quiet_prefect()
    from kgrag.bench.graph import render, run_graph_bench

    result = guard(lambda: run_graph_bench(data, limit, out))
    console.print(render(result), markup=False)
