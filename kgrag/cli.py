"""`kgrag` command line: a thin layer over `Client` and the service launcher.

kgrag's own errors (missing model, server, workspace, bad path or option) print one line
saying what to do and exit with status 1; anything else is a bug and keeps its
traceback. Further command groups (the benchmarks) plug in through the `kgrag.commands`
entry point group.
"""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import asdict
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kgrag.cli_support import (
    Workspace,
    console,
    err,
    exit_cleanly_on_sigterm,
    guard,
    quiet_prefect,
)

if TYPE_CHECKING:
    from kgrag.client import Client
    from kgrag.core.types import Hit
    from kgrag.server.remote import RemoteClient

app = typer.Typer(help="kgrag: knowledge-graph-augmented RAG", no_args_is_help=True)
graph_app = typer.Typer(help="Inspect and export the graph", no_args_is_help=True)
app.add_typer(graph_app, name="graph")
for _plugin in entry_points(group="kgrag.commands"):
    app.add_typer(_plugin.load(), name=_plugin.name)


@app.callback()
def _setup() -> None:
    exit_cleanly_on_sigterm()
    from kgrag.core.errors import KgragError
    from kgrag.core.settings import load_settings
    from kgrag.prefect_server import use_home_prefect

    with contextlib.suppress(KgragError):  # a bad setting is reported by the command
        use_home_prefect(load_settings())  # runs report to `kgrag up --prefect`'s server


def _client(workspace: str | None) -> Client | RemoteClient:
    """The server's client when one serves this home (or KGRAG_URL names one), otherwise
    an in-process one."""

    def connect() -> Client | RemoteClient:
        from kgrag.core.settings import load_settings
        from kgrag.server.discovery import running_server

        settings = load_settings()
        server = None if settings.url else running_server(settings)
        if server is not None:
            from kgrag.server.remote import RemoteClient

            return RemoteClient(server.url, workspace, settings, server.local_token)
        from kgrag.client import Client

        return Client(workspace=workspace, settings=settings)  # remote when KGRAG_URL is set

    return guard(connect)


# ---------------------------------------------------------------- services
@app.command()
def up(
    prefect: Annotated[
        bool, typer.Option("--prefect", help="also this home's Prefect server (UI, schedules)")
    ] = False,
) -> None:
    """Start the local FalkorDB server (127.0.0.1, data under $KGRAG_HOME)."""
    from kgrag.core.settings import load_settings
    from kgrag.services import start
    from kgrag.stores import local_server

    settings = guard(load_settings)
    if settings.uses_neo4j:
        console.print("NEO4J_URI is set: kgrag uses Neo4j and starts no graph server.")
    else:
        server = local_server(settings)
        pid = guard(lambda: start(server))
        console.print(
            f"FalkorDB listening on {server.host}:{server.port} (pid {pid}), "
            f"data in {server.data_dir}"
        )
    if prefect:
        from kgrag import prefect_server

        home_prefect = prefect_server.PrefectServer.of(settings)
        prefect_pid = guard(lambda: prefect_server.start(home_prefect))
        console.print(
            f"Prefect server at {home_prefect.ui_url} (pid {prefect_pid}), state in "
            f"{home_prefect.home}; kgrag runs of this home report to it"
        )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: KGRAG_SERVE_HOST, 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: KGRAG_SERVE_PORT, 8765")] = None,
) -> None:
    """Serve every workspace over HTTP from one process that owns the stores and models."""
    quiet_prefect()
    from kgrag.core.settings import load_settings
    from kgrag.server.run import serve as run

    settings = guard(load_settings)
    host, port = host or settings.serve_host, port or settings.serve_port
    console.print(f"kgrag serving {settings.home} on http://{host}:{port} (API docs at /docs)")
    guard(lambda: run(settings, host, port))


@app.command()
def down() -> None:
    """Stop this home's local servers (FalkorDB, and Prefect after `kgrag up --prefect`)."""
    from kgrag import prefect_server
    from kgrag.core.settings import load_settings
    from kgrag.services import stop
    from kgrag.stores import local_server

    settings = guard(load_settings)
    server = local_server(settings)
    console.print("stopped" if guard(lambda: stop(server)) else "no local server was running")
    if prefect_server.stop(prefect_server.PrefectServer.of(settings)):
        console.print("Prefect server stopped")


@app.command()
def watch(
    path: Annotated[Path | None, typer.Argument(help="folder to keep in sync")] = None,
    workspace: Workspace = None,
    every: Annotated[str | None, typer.Option(help="interval: 30s, 15m, 2h")] = None,
    cron: Annotated[str | None, typer.Option(help='cron schedule, e.g. "*/15 * * * *"')] = None,
    show: Annotated[bool, typer.Option("--list", help="list the watches")] = False,
    remove: Annotated[str | None, typer.Option(help="remove a watch (name or folder)")] = None,
) -> None:
    """Sync a folder into a workspace on a schedule: new files ingested, changed ones
    re-indexed, gone ones deleted. Needs `kgrag up --prefect`; `kgrag serve` runs them."""
    import os

    if not os.environ.get("PREFECT_API_URL"):
        err.print("[red]error:[/red] watches need a Prefect server: run `kgrag up --prefect`")
        raise typer.Exit(1)
    from kgrag.server import watch as watches

    if remove:
        gone = guard(lambda: watches.remove(remove))
        console.print(f"removed {', '.join(gone)}" if gone else f"no watch {remove!r}")
        raise typer.Exit(0 if gone else 1)
    if show:
        table = Table("name", "folder", "workspace", "schedule", "paused")
        for w in guard(watches.list_watches):
            table.add_row(w.name, w.path, w.workspace, w.schedule, "yes" if w.paused else "")
        console.print(table)
        return
    if path is None:
        err.print("[red]error:[/red] give a folder to watch (or --list, or --remove NAME)")
        raise typer.Exit(1)
    from kgrag.core.settings import load_settings

    name = workspace or guard(load_settings).workspace
    added = guard(lambda: watches.register(str(path), name, every, cron))
    console.print(
        f"watching {added.path} into workspace {added.workspace!r} ({added.schedule}) as "
        f"{added.name}; `kgrag serve` runs it"
    )


@app.command()
def status(
    workspace: Workspace = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Graph backend, vector store, stored choices and counts for a workspace."""
    info = guard(lambda: _client(workspace).status())
    if as_json:
        console.print_json(json.dumps(info, default=str))
        return
    table = Table(title=f"kgrag workspace {info['workspace']!r}", show_header=False)
    table.add_row("served by", info.get("served_by") or "this process (no kgrag server running)")
    table.add_row("home", info["home"])
    table.add_row("graph", f"{info['graph']['backend']} at {info['graph']['location']}")
    for name, n in info["graph"]["counts"].items():
        table.add_row(f"  {name}", str(n))
    table.add_row("vectors", f"{info['vectors']['backend']} at {info['vectors']['location']}")
    table.add_row("  units", str(info["vectors"]["units"]))
    for name, value in (info.get("config") or {}).items():
        if name not in ("name", "created_at") and value is not None:
            table.add_row(name.replace("_", " "), str(value))
    console.print(table)


# ---------------------------------------------------------------- data
@app.command()
def ingest(path: Path, workspace: Workspace = None) -> None:
    """Ingest a file or folder (txt, md, html, pdf, docx); re-running is a no-op.

    Exit status 0 when every file went in, 2 when some failed (the rest went in), 1 when
    none could be ingested."""
    quiet_prefect()
    client = _client(workspace)
    report = guard(lambda: client.ingest(path, show_progress=True))
    for failed_path, reason in report.failed:
        err.print(
            f"[yellow]failed[/yellow] {failed_path}: {reason}", highlight=False, soft_wrap=True
        )
    console.print(
        f"indexed {report.indexed}, unchanged {report.unchanged}, replaced {report.replaced}, "
        f"failed {len(report.failed)}; {report.chunks} chunks in {report.seconds:.1f}s"
    )
    raise typer.Exit(report.exit_code)


@app.command()
def delete(target: str, workspace: Workspace = None) -> None:
    """Delete a document by path or id, with its chunks, vectors and orphaned entities."""
    quiet_prefect()
    ids = guard(lambda: _client(workspace).delete(target))
    console.print(f"deleted {len(ids)} document(s): {', '.join(ids)}")


@app.command()
def prune(folder: Path, workspace: Workspace = None) -> None:
    """Delete documents whose files under FOLDER are gone."""
    quiet_prefect()
    ids = guard(lambda: _client(workspace).prune(folder))
    console.print(f"pruned {len(ids)} document(s)")


@app.command()
def doctor(
    workspace: Workspace = None,
    repair: Annotated[bool, typer.Option("--repair", help="fix what can be fixed")] = False,
) -> None:
    """Check that the graph and the vectors agree. Exit status 0 when consistent, 1 when
    a problem was found (repaired or not)."""
    quiet_prefect()
    report = guard(lambda: _client(workspace).doctor(repair))
    after = report.after
    table = Table("check", "found", *(["after repair"] if after else []))
    for (check, n), (_, m) in zip(report.found, after or report.found, strict=True):
        table.add_row(check, str(n), *([str(m)] if after else []))
    console.print(table)
    for line in report.not_repaired:
        err.print(f"[yellow]not repaired[/yellow] {line}", highlight=False, soft_wrap=True)
    if report.consistent:
        console.print("consistent")
    elif not repair:
        console.print("run `kgrag doctor --repair` to fix what can be fixed")
    raise typer.Exit(0 if report.consistent else 1)


@app.command()
def reset(workspace: Workspace = None, yes: Annotated[bool, typer.Option("--yes")] = False) -> None:
    """Delete everything in a workspace."""
    client = _client(workspace)
    if not yes:
        typer.confirm(f"Delete all data of workspace {client.workspace!r}?", abort=True)
    guard(client.reset)
    console.print(f"workspace {client.workspace!r} is empty")


# ---------------------------------------------------------------- queries
Mode = Annotated[str | None, typer.Option("--mode", "-m", help="dense|keyword|hybrid|graph|fused")]
TopK = Annotated[int | None, typer.Option("-k", help="hits (default: KGRAG_TOP_K)")]


@app.command()
def retrieve(
    question: str,
    workspace: Workspace = None,
    k: TopK = None,
    mode: Mode = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the top-k chunks for a question (no generation)."""
    result = guard(lambda: _client(workspace).search(question, k, mode))
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


def _named(hit: Hit) -> str:
    """A source as people find it: its title and the file it is in."""
    return f"{hit.title} — {hit.path}" if hit.title else hit.path


@app.command()
def ask(
    question: str,
    workspace: Workspace = None,
    k: TopK = None,
    mode: Mode = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    answer_by: Annotated[
        str,
        typer.Option(
            "--answer",
            help="llm: the model's answer, citing sources as [n]; evidence: the sources' "
            "sentences that best match the question, no model",
        ),
    ] = "llm",
) -> None:
    """Answer a question from the workspace, citing the sources used."""
    client = _client(workspace)

    def stream(piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    answer = guard(
        lambda: client.ask(
            question, k, mode, on_token=None if as_json else stream, answer=answer_by
        )
    )
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write("\n\n")
    for c in answer.citations:
        console.print(
            f"[{c.n}] {_named(c)} ({c.chunk_id}, {c.source}, score {c.score:.3f})",
            highlight=False,
        )
    if answer.sources and not answer.citations:
        console.print(f"[dim]cites none of the {len(answer.sources)} sources it was given:[/dim]")
        for s in answer.sources:
            console.print(f"[dim][{s.n}] {_named(s)} ({s.chunk_id})[/dim]", highlight=False)
    elif not answer.sources:
        console.print("[dim]no sources[/dim]")
    if answer.method == "evidence":  # the facts that link the sentences
        for fact in answer.facts:
            console.print(f"  fact: {fact}", highlight=False)
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
    from kgrag.extractors.train_ner import train_zh_ner

    saved = guard(lambda: train_zh_ner(data, out, epochs=epochs))
    console.print(f"saved to {saved}; set KGRAG_HANLP_NER={saved}")


# ---------------------------------------------------------------- graph
@graph_app.command("export")
def graph_export(
    out: Path,
    workspace: Workspace = None,
    fmt: Annotated[str, typer.Option("--format")] = "json",
) -> None:
    """Export the workspace graph as GraphML or JSON."""
    client = _client(workspace)
    text, count = guard(lambda: client.export_graph(fmt))
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {count['nodes']} nodes and {count['edges']} edges to {out}")
