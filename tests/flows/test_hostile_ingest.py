"""A folder of hostile files beside good ones, ingested as a user would (`kgrag ingest`):
each hostile file is one line of error naming it, every good file goes in and can be
found, and the run ends in bounded time and memory.

The files are the parser tests' hostile corpus (tests/extractors/hostile.py); the ones
that parse to megabytes of text (there for the parsers' linear-time checks) are left out
here, since indexing them is minutes of model work that says nothing new.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgrag.client import Client
from tests.conftest import cli_env, make_settings
from tests.extractors.hostile import PARSED, corpus

pytestmark = pytest.mark.slow

SMALL = 50_000  # bytes: parsed files above this are the parsers' speed cases
# The models and Prefect take about 1 GB before the first file (measured: an ingest of the
# good files alone peaks at 1.0-1.1 GB); hostile files may add a bounded, transient share.
HOSTILE_EXTRA_MB = 400
RSS_LIMIT_MB = 1536


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_hostile_files_fail_one_by_one_and_the_good_ones_go_in(
    tmp_path: Path, falkordb_server, workspace, prefect_harness
):
    folder = tmp_path / "mixed"
    folder.mkdir()
    hostile, good = [], []
    for name, data, expected in corpus():
        if expected.startswith(PARSED) and len(data) > SMALL:
            continue
        (folder / name).write_bytes(data)
        (good if expected.startswith(PARSED) else hostile).append(name)
    assert len(hostile) >= 15 and len(good) >= 10

    only_good = tmp_path / "good"
    only_good.mkdir()
    for name in good:
        (only_good / name).write_bytes((folder / name).read_bytes())
    settings = make_settings(tmp_path / "home", falkordb_server)
    code, _, _, _, baseline = _ingest(only_good, settings, f"{workspace}-good")
    assert code == 0
    code, out, err, seconds, peak = _ingest(folder, settings, workspace)

    assert code == 2, err  # some files failed, the rest went in
    failed = [line for line in err.splitlines() if line.startswith("failed ")]
    assert sorted(Path(line.split(": ")[0][len("failed ") :]).name for line in failed) == sorted(
        hostile
    )
    assert all(": " in line and line.split(": ", 1)[1] for line in failed)  # with a reason
    assert "Traceback" not in err
    assert f"indexed {len(good)}" in out
    print(
        f"hostile ingest: {len(hostile)} failed, {len(good)} in, {seconds:.0f}s, peak RSS "
        f"{peak:.0f} MB (the good files alone: {baseline:.0f} MB)"
    )
    assert seconds < 300
    assert 0 < peak < min(baseline + HOSTILE_EXTRA_MB, RSS_LIMIT_MB), (peak, baseline)

    client = Client(workspace=workspace, settings=settings)
    paths = {Path(d.path).name for d in client.graph().documents() if d.complete}
    assert paths == set(good)
    hit = client.retrieve("居里夫人在巴黎发现了镭", k=20, mode="keyword")
    assert {"居里夫人.txt", "gbk.txt"} <= {Path(h.path).name for h in hit}
    client.close()


def _ingest(folder: Path, settings: object, workspace: str) -> tuple[int, str, str, float, float]:
    """`kgrag ingest` as a user runs it: exit code, stdout, stderr, seconds, peak RSS (MB)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kgrag", "ingest", str(folder)],
        env={**cli_env(settings, workspace), "COLUMNS": "400"},  # type: ignore[arg-type]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0.0
    while proc.poll() is None:  # VmHWM is gone once the process has exited
        try:
            peak = max(peak, _peak_rss_mb(proc.pid))
        except OSError:
            break
        time.sleep(0.2)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err, time.monotonic() - started, peak
