"""What every `kgrag` command shares: consoles, the workspace option, Prefect defaults,
and the rule that kgrag's own errors print as one line while anything else keeps its
traceback (a bug should look like one)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from kgrag.core.errors import KgragError

console = Console()
err = Console(stderr=True)

Workspace = Annotated[str | None, typer.Option("--workspace", "-w", help="workspace name")]
T = TypeVar("T")


def quiet_prefect() -> None:
    """Run logs reach the Prefect API at INFO; the terminal shows only Prefect's errors
    (kgrag prints its own summary and one line per failed file)."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "ERROR")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def exit_cleanly_on_sigterm() -> None:
    """SIGTERM exits through Python's normal shutdown, so what kgrag started (Prefect's
    temporary server, a llama.cpp model) is stopped by its exit handlers instead of
    being left running, as the default action (die at once) would leave it."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def guard(action: Callable[[], T]) -> T:
    """Run `action`; a KgragError becomes one line on stderr and exit status 1."""
    try:
        return action()
    except KgragError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
