"""`kgrag bench load` against a real `kgrag serve` process (its own home, a free port):
retrieve and ask clients over HTTP while the server ingests another folder."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kgrag.bench.load import find_server, percentile, render, run_load
from kgrag.core.errors import ServiceError
from kgrag.core.settings import Settings
from kgrag.server.discovery import running_server
from tests.conftest import cli_env, free_port, make_settings

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "hotpot-sample"
KEY = "load-test-key"


@pytest.fixture(scope="module")
def served(tmp_path_factory, falkordb_server, prefect_harness) -> Iterator[Settings]:
    """A `kgrag serve` process; the settings of its home (API key included)."""
    home = tmp_path_factory.mktemp("load-home")
    port = free_port()
    settings = make_settings(home, falkordb_server, api_key=KEY, serve_port=port)
    env = {**cli_env(settings, "default"), "KGRAG_API_KEY": KEY, "KGRAG_SERVE_PORT": str(port)}
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
        yield settings
    finally:
        proc.terminate()  # this server only, by its own pid
        proc.wait(timeout=60)
        log.close()


def test_percentile_is_a_measured_value():
    assert percentile([], 50) == 0.0
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, p) for p in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([7.0], 99) == 7.0


def test_no_server_is_one_clear_error(tmp_path: Path):
    with pytest.raises(ServiceError, match="no kgrag server is running"):
        find_server(Settings(home=tmp_path))
    with pytest.raises(ServiceError, match="not answering"):
        find_server(Settings(home=tmp_path), f"http://127.0.0.1:{free_port()}")


def test_load_against_a_running_server(served: Settings, tmp_path: Path):
    out = tmp_path / "load.json"
    result = run_load(
        SAMPLE,
        clients=2,
        ask_clients=1,
        seconds=12,
        out=out,
        batch_files=3,
        settings=served,
    )
    text = render(result)
    print(text)  # the table, for -s and for a failure
    for name in ("retrieve", "ask"):
        route = result["routes"][name]
        assert route["requests"] > 0 and route["per_s"] > 0, text
        assert route["errors"] == 0, text
        lat = route["latency_ms"]
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"], text
    ingest = result["ingest"]
    assert ingest["files_done"] > 0 and ingest["errors"] == 0, text  # progress in the window
    assert ingest["files_total"] >= ingest["files_done"]
    assert result["peak_rss_mb"] > 0 and result["server_pid"] is not None, text
    assert "| retrieve |" in text and "| ask |" in text and "peak RSS" in text

    saved = json.loads(out.read_text())
    assert {
        "server",
        "seconds",
        "clients",
        "ask_clients",
        "routes",
        "ingest",
        "peak_rss_mb",
    } <= set(saved)
    assert saved["server"] == running_server(served).url  # type: ignore[union-attr]
    assert (saved["seconds"], saved["clients"], saved["ask_clients"]) == (12, 2, 1)
    for route in saved["routes"].values():
        assert {"requests", "per_s", "latency_ms", "errors"} <= set(route)
        assert set(route["latency_ms"]) == {"p50", "p95", "p99"}
    assert {"files_done", "files_total", "state"} <= set(saved["ingest"])
    assert saved["ingest"]["state"] in {"queued", "running", "done"}
