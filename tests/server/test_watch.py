"""Scheduled folder syncs: a real Prefect server (this home's, as `kgrag up --prefect`
starts it), a real `kgrag serve` that runs the watch runs, and the CLI registering a watch
with a 5 s interval."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from kgrag import prefect_server
from kgrag.server.remote import RemoteClient
from kgrag.server.watch import parse_every
from tests.conftest import EXAMPLES, cli_env, free_port, make_settings

pytestmark = pytest.mark.slow

KGRAG = [sys.executable, "-m", "kgrag"]


def test_intervals_parse_and_bad_ones_are_refused():
    assert parse_every("30s").total_seconds() == 30
    assert parse_every(" 15m ").total_seconds() == 900
    assert parse_every("2h").total_seconds() == 7200
    for bad in ("0s", "15", "m", "1w", "-5s"):
        with pytest.raises(ValueError, match="invalid interval"):
            parse_every(bad)


@pytest.fixture
def home_prefect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # The scheduler makes runs for new deployments on its next loop: make that soon.
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS", "2")
    server = prefect_server.PrefectServer(tmp_path / "prefect", "127.0.0.1", free_port())
    prefect_server.start(server)
    try:
        yield server.api_url
    finally:
        assert prefect_server.stop(server)


def _wait(
    check: Callable[[], bool], what: str, seconds: float = 120, log: Path | None = None
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    tail = log.read_text()[-3000:] if log else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


def test_a_watch_syncs_its_folder_on_schedule(
    tmp_path: Path, falkordb_server, workspace, home_prefect: str
):
    folder = tmp_path / "watched"
    folder.mkdir()
    port = free_port()
    settings = make_settings(tmp_path / "home", falkordb_server, serve_port=port)
    env = {
        **cli_env(settings, workspace),
        "PREFECT_API_URL": home_prefect,
        "KGRAG_SERVE_PORT": str(port),
    }
    env.pop("PREFECT_LOGGING_LEVEL", None)  # kgrag's own default: run logs at INFO
    log = (tmp_path / "serve.log").open("w")
    served = subprocess.Popen([*KGRAG, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(up, "kgrag serve")
        added = subprocess.run(
            [*KGRAG, "watch", str(folder), "--every", "5s"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert added.returncode == 0, added.stderr
        listed = subprocess.run(
            [*KGRAG, "watch", "--list"],
            env={**env, "COLUMNS": "300"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert str(folder) in listed.stdout and workspace in listed.stdout

        client = RemoteClient(url, workspace, settings)

        def documents() -> int:
            try:
                return int(client.status()["graph"]["counts"]["Document"])
            except Exception:  # the workspace has no data before the first run
                return -1

        def artifact(row: str) -> str:
            """The markdown of this workspace's newest sync artifact with `row` in it."""
            found = httpx.post(
                f"{home_prefect}/artifacts/filter",
                json={
                    "artifacts": {"key": {"any_": [f"kgrag-sync-{workspace.lower()}"]}},
                    "sort": "CREATED_DESC",
                    "limit": 50,
                },
                timeout=10,
            ).json()
            return next((a["data"] for a in found if row in a["data"]), "")

        log_file = tmp_path / "serve.log"
        shutil.copy(EXAMPLES / "marie-curie.md", folder / "curie.md")
        _wait(lambda: bool(artifact("| 1 | 0 | 0 |")), "a run that adds the file", log=log_file)
        assert "## Added" in artifact("| 1 | 0 | 0 |") and "curie.md" in artifact("| 1 | 0 | 0 |")
        assert documents() == 1 and client.status()["vectors"]["units"] >= 1
        assert client.retrieve("Where was Marie Curie born?", k=1)[0].path.endswith("curie.md")

        (folder / "curie.md").unlink()
        _wait(lambda: bool(artifact("| 0 | 0 | 1 |")), "a run that deletes it", log=log_file)
        assert "## Deleted" in artifact("| 0 | 0 | 1 |")
        assert documents() == 0 and client.status()["vectors"]["units"] == 0

        logs = httpx.post(
            f"{home_prefect}/logs/filter", json={"logs": {"level": {"ge_": 20}}, "limit": 200}
        ).json()
        synced = [log for log in logs if log["message"].startswith("synced ")]
        assert synced and all(log["level"] == 20 for log in synced)  # INFO reaches the API

        removed = subprocess.run(
            [*KGRAG, "watch", "--remove", str(folder)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert removed.returncode == 0, removed.stderr
    finally:
        served.terminate()
        served.wait(timeout=60)
        log.close()
