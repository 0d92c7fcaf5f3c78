"""`kgrag bench ...`: the benchmark commands. Registered through the `kgrag.commands`
entry point, so the library never imports the benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

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
    runner: Annotated[
        str | None,
        typer.Option(
            "--runner",
            help="task runner(s) to ingest with, e.g. default,dask: each ingests into its "
            "own workspace and the ingest rates are reported side by side",
        ),
    ] = None,
) -> None:
    """Recall@k, all-found@k, MRR, NDCG@10 and latency per mode, with BM25/dense baselines."""
    quiet_prefect()
    from kgrag.bench.retrieval import run_retrieval

    runners = _csv(runner, str) if runner else None
    result = guard(
        lambda: run_retrieval(
            data, _csv(modes, str), _csv(ks, int), limit, out, reuse, runners=runners
        )
    )
    runs = result["ingest_by_runner"]
    for name, ing in runs.items():
        label = f"ingest ({name})" if len(runs) > 1 or runner else "ingest"
        if ing["indexed"]:
            console.print(
                f"{label}: {ing['passages']} passages, {ing['indexed']} indexed in "
                f"{ing['seconds']:.1f}s ({ing['passages_per_s']:.1f}/s) after "
                f"{ing['startup_s']:.1f}s start-up; stages: "
                + ", ".join(f"{k} {v:.1f}s" for k, v in ing["stages"].items())
            )
        else:
            console.print(
                f"{label}: workspace reused, {ing['passages']} passages unchanged (checked "
                f"in {ing['seconds']:.1f}s); --no-reuse re-ingests and times it"
            )
    if len(runs) > 1:
        console.print(
            "ingest passages/s: "
            + ", ".join(f"{name} {ing['passages_per_s']:.1f}" for name, ing in runs.items())
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
    llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="--no-llm: evidence and support only")
    ] = True,
) -> None:
    """LLM answers (EM, token F1, citations, refusals), evidence hits and question support,
    on the questions' own workspace and on one without their supporting passages."""
    quiet_prefect()
    from kgrag.bench.answers import run_answers

    r = guard(lambda: run_answers(data, limit, mode, out, llm=llm))
    console.print(answers_table(r), markup=False, soft_wrap=True)
    console.print(support_line(r), markup=False, soft_wrap=True)
    if out:
        console.print(f"wrote {out}")


def support_line(r: dict[str, Any]) -> str:
    """The support distributions of the two splits, and what thresholds refuse of each."""

    def refuses(rates: dict[str, float]) -> str:
        return (
            f"refuses {100 * rates['refuses_answerable']:.1f}% answerable, "
            f"{100 * rates['refuses_unanswerable']:.1f}% unanswerable"
        )

    dist = {
        split: "/".join(f"{r['support'][split][p]:.3f}" for p in ("p10", "p50", "p90"))
        for split in r["support"]
    }
    cal = r["calibration"]
    line = (
        f"support p10/p50/p90: answerable {dist['answerable']}, unanswerable "
        f"{dist['unanswerable']}; best threshold here {cal['threshold']:.3f} {refuses(cal)}"
    )
    if r["refuse_below"] is not None:
        line += f"; KGRAG_REFUSE_BELOW={r['refuse_below']} {refuses(r['refuse_below_rates'])}"
    return line


def answers_table(r: dict[str, Any]) -> str:
    """One row per split; shares as percentages, the LLM's columns when it was asked."""
    llm = ["exact_match", "token_f1", "cites_written", "cites_supporting", "refused"]
    keys = [*(llm if r["answer_style"] else []), "evidence_hit"]
    header = ["split", "questions", *keys, *(["p50 ms"] if r["answer_style"] else [])]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for split, m in r["splits"].items():
        cells = [split, str(r["questions"]), *(f"{100 * m[k]:.1f}" for k in keys)]
        if r["answer_style"]:
            cells.append(f"{m['latency_ms']['p50']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@app.command("extract")
def bench_extract(
    out: Out = None,
    passages: Annotated[int, typer.Option("--passages")] = 200,
    data: Annotated[Path | None, typer.Option("--data")] = None,
    keyphrases: Annotated[bool, typer.Option("--keyphrases/--no-keyphrases")] = True,
) -> None:
    """Entity and triple precision/recall/F1 per language, Chinese keyphrase P/R/F1@k
    per extractor, and extraction throughput."""
    from kgrag.bench.extract import main as extract_main

    args = ["--passages", str(passages)]
    if not keyphrases:
        args.append("--no-keyphrases")
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


@app.command("load")
def bench_load(
    data: Data,
    clients: Annotated[int, typer.Option("--clients", help="threads sending /retrieve")] = 20,
    ask_clients: Annotated[int, typer.Option("--ask-clients", help="threads sending /ask")] = 4,
    seconds: Annotated[float, typer.Option("--seconds", help="length of the timed window")] = 60,
    url: Annotated[
        str | None, typer.Option("--url", help="default: KGRAG_URL, else this home's server")
    ] = None,
    out: Out = None,
    limit: Limit = None,
    ingest_data: Annotated[
        Path | None,
        typer.Option("--ingest-data", help="corpus ingested meanwhile (default: --data's)"),
    ] = None,
    ingest_batch: Annotated[
        int, typer.Option("--ingest-batch", help="files per background ingestion job")
    ] = 8,
) -> None:
    """Throughput, latency and errors of a running `kgrag serve` under concurrent
    retrieve and ask clients while it ingests another folder; the server's peak RSS."""
    from kgrag.bench.load import render, run_load
    from kgrag.core.settings import load_settings

    settings = guard(load_settings)
    result = guard(
        lambda: run_load(
            data,
            clients,
            ask_clients,
            seconds,
            url,
            out,
            limit,
            ingest_data,
            ingest_batch,
            settings,
            log=lambda line: console.print(line, markup=False, soft_wrap=True),
        )
    )
    console.print(render(result), markup=False, soft_wrap=True)
    if out:
        console.print(f"wrote {out}")


SHARED_SETS = [Path("../shared/bench/musique-dev"), Path("../shared/bench/hotpotqa-dev")]


@app.command("scale")
def bench_scale(
    sizes: Annotated[
        str, typer.Option("--sizes", help="workspace sizes in passages, grown smallest first")
    ] = "10000,30000,100000",
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="benchmark folder(s) the passages and questions come from (repeatable; "
            "default: ../shared/bench/musique-dev and hotpotqa-dev)",
        ),
    ] = None,
    questions: Annotated[int, typer.Option("--questions", help="questions timed per mode")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="the synthetic passages' seed")] = 0,
    modes: Annotated[str, typer.Option("--modes")] = "dense,keyword,graph,fused",
    out: Out = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="grow the workspace an earlier run of this --seed left instead of "
            "resetting it (the first size's ingest counts only what it adds)",
        ),
    ] = False,
) -> None:
    """Grow one workspace through --sizes (real passages, then ones recombined from their
    sentences); per size: ingest rate, peak RSS, disk, no-op re-ingest, restart to first
    answer, and latency per retrieval mode."""
    quiet_prefect()
    from kgrag.bench.scale import run_scale
    from kgrag.bench.scale_report import render

    result = guard(
        lambda: run_scale(
            data or SHARED_SETS,
            _csv(sizes, int),
            questions,
            seed,
            _csv(modes, str),
            out,
            log=lambda line: console.print(line, markup=False, soft_wrap=True),
            resume=resume,
        )
    )
    console.print(render(result), markup=False)
    if out:
        console.print(f"wrote {out} and {result['chart']}")
