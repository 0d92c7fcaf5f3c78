"""`kgrag bench load` against a real `kgrag serve` process (its own home, a free port):
retrieve and ask clients over HTTP while the server ingests another folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgrag.bench.load import find_server, percentile, render, run_load
from kgrag.core.errors import ServiceError
from kgrag.core.settings import Settings
from kgrag.server.discovery import running_server
from tests.conftest import free_port, serve_process

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "hotpot-sample"
KEY = "load-test-key"


@pytest.fixture(scope="module")
def served(tmp_path_factory, falkordb_server, prefect_harness) -> Iterator[Settings]:
    """A `kgrag serve` process; the settings of its home (API key included)."""
    with serve_process(tmp_path_factory.mktemp("load-home"), falkordb_server, api_key=KEY) as (
        settings,
        _,
        _,
    ):
        yield settings


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
