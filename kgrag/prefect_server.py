"""This home's Prefect server (`kgrag up --prefect`): schedules, run history, logs and
artifacts in the Prefect UI, with its state under $KGRAG_HOME/prefect.

Without it, each run starts Prefect's temporary server and its history is gone when the
run ends; with it, every kgrag process of the home (the CLI, `kgrag serve`, scheduled
watches) reports to it: `use_home_prefect` points PREFECT_API_URL at it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from kgrag.core.errors import ServiceError
from kgrag.core.settings import Settings

READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class PrefectServer:
    home: Path  # $KGRAG_HOME/prefect: Prefect's database, pid and log
    host: str
    port: int

    @classmethod
    def of(cls, settings: Settings) -> PrefectServer:
        return cls(settings.home / "prefect", "127.0.0.1", settings.prefect_port)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"


def _healthy(server: PrefectServer) -> bool:
    try:
        return httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def running_pid(server: PrefectServer) -> int | None:
    try:
        pid = int(server.pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start(server: PrefectServer) -> int:
    """Start the server (or confirm the running one) and wait for its health route."""
    pid = running_pid(server)
    if pid is not None and _healthy(server):
        return pid
    server.home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(server.home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_API_URL": server.api_url,
    }
    env.pop("PREFECT_API_URL", None)  # the server must not think it is a client
    command = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        server.host,
        "--port",
        str(server.port),
    ]
    with server.log_file.open("ab") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(
                f"the Prefect server exited ({proc.returncode}); see {server.log_file}"
            )
        if _healthy(server):
            server.pid_file.write_text(str(proc.pid))
            return proc.pid
        time.sleep(0.3)
    proc.kill()
    raise ServiceError(
        f"the Prefect server did not answer in {READY_TIMEOUT_S:.0f}s; see {server.log_file}"
    )


def stop(server: PrefectServer, timeout: float = 20.0) -> bool:
    """Stop it by its own pid (its whole process group); False if none was running."""
    pid = running_pid(server)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running_pid(server) is not None:
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if running_pid(server) is not None:
        os.killpg(pid, signal.SIGKILL)
    server.pid_file.unlink(missing_ok=True)
    return True


def use_home_prefect(settings: Settings) -> str | None:
    """Point this process's Prefect client at the home's server when it runs (and no
    PREFECT_API_URL is set already); returns the API URL in use, if any. Call it before
    anything imports prefect."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    server = PrefectServer.of(settings)
    if running_pid(server) is None:
        return None
    os.environ["PREFECT_API_URL"] = server.api_url
    return server.api_url
