"""The `kgrag` command as a user runs it (subprocess), against the test servers."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, cli_env, make_settings

pytestmark = pytest.mark.slow

KGRAG = [sys.executable, "-m", "kgrag"]


def _run(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(KGRAG + args, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def test_ingest_status_retrieve_ask_json(
    tmp_path: Path, falkordb_server, workspace, prefect_harness
):
    # Its own home: local Qdrant allows one process per folder, and this test's process
    # may hold the shared test home open.
    env = cli_env(make_settings(tmp_path / "home", falkordb_server), workspace)
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name in ("marie-curie.md", "tu-youyou.md"):
        (corpus / name).write_text((EXAMPLES / name).read_text(encoding="utf-8"), encoding="utf-8")

    out = _run(["ingest", str(corpus)], env).stdout
    assert "indexed 2" in out

    status = json.loads(_run(["status", "--json"], env).stdout)
    assert status["graph"]["backend"] == "falkordb"
    assert status["graph"]["counts"]["Document"] == 2
    assert status["vectors"]["units"] >= 2

    hits = json.loads(
        _run(["retrieve", "Where was Marie Curie born?", "--json", "-m", "dense"], env).stdout
    )
    assert hits["hits"][0]["path"].endswith("marie-curie.md")

    answer = json.loads(_run(["ask", "Where was Marie Curie born?", "--json"], env).stdout)
    assert answer["text"] and answer["question"] == "Where was Marie Curie born?"
    assert answer["method"] == "llm"
    assert answer["sources"] and answer["sources"][0]["path"].startswith(str(corpus))
    assert all(c in answer["sources"] for c in answer["citations"])

    evidence = _run(["ask", "Where was Marie Curie born?", "--answer", "evidence"], env).stdout
    first, _, rest = evidence.partition("\n")
    assert "Warsaw" in first and "[1]" in first  # the sentences, each cited
    assert "marie-curie.md" in rest  # the cited source listed below
    proc = _run(["ask", "Where?", "--answer", "poem"], env, check=False)
    assert proc.returncode == 1 and "unknown answer 'poem'" in proc.stderr

    doctor = _run(["doctor"], env)
    assert "consistent" in doctor.stdout and "chunks without vectors" in doctor.stdout

    # Exit status 2: one file failed and is named, the others are in (unchanged).
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    proc = _run(["ingest", str(corpus)], env, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "unchanged 2" in proc.stdout and "failed 1" in proc.stdout
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("failed")]
    assert "broken.pdf" in line and "corrupt PDF" in line
    # Exit status 1: nothing could be ingested.
    proc = _run(["ingest", str(corpus / "broken.pdf")], env, check=False)
    assert proc.returncode == 1 and "broken.pdf" in proc.stderr


def test_errors_are_one_clear_line(tmp_path: Path, falkordb_server, workspace):
    env = cli_env(make_settings(tmp_path / "home", falkordb_server), workspace)
    proc = _run(["ask", "anything?"], env, check=False)
    assert proc.returncode == 1
    assert "no data yet" in proc.stderr and "Traceback" not in proc.stderr

    proc = _run(["ingest", "/no/such/folder"], env, check=False)
    assert proc.returncode == 1 and "no such file or folder" in proc.stderr

    env["KGRAG_LLM_MODEL"] = "/no/model.gguf"
    proc = _run(["retrieve", "x", "-m", "warp"], env, check=False)
    assert proc.returncode == 1 and "unknown retrieval mode" in proc.stderr

    for args, message in [
        (["ask", "  "], "the question is empty"),
        (["ask", "x" * 100_000], "the limit is 2000"),
        (["ask", "x", "-w", ""], "invalid workspace name ''"),
    ]:
        started = time.monotonic()
        proc = _run(args, env, check=False)
        assert proc.returncode == 1 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and time.monotonic() - started < 30

    proc = _run(["status"], {**env, "KGRAG_WORKSPACE": "no spaces allowed"}, check=False)
    assert proc.returncode == 1 and "invalid setting: KGRAG_WORKSPACE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_benchmarks_plug_in_as_a_command_group(tmp_path: Path, falkordb_server, workspace):
    env = cli_env(make_settings(tmp_path / "home", falkordb_server), workspace)
    out = _run(["bench", "--help"], env).stdout
    assert all(name in out for name in ("retrieval", "answers", "extract", "graph"))


def test_sigterm_stops_the_temporary_prefect_server(tmp_path: Path, falkordb_server, workspace):
    """Without a Prefect server, a run starts a temporary one; killing kgrag politely must
    not leave it running."""
    env = cli_env(make_settings(tmp_path / "home", falkordb_server), workspace)
    env.pop("PREFECT_API_URL", None)
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    corpus = tmp_path / "c"
    corpus.mkdir()
    for i in range(300):
        (corpus / f"{i}.md").write_text(f"# Note {i}\n\nMarie Curie wrote note {i} in Paris.\n")
    proc = subprocess.Popen(
        [*KGRAG, "ingest", str(corpus)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        server = None
        while server is None and time.monotonic() < deadline and proc.poll() is None:
            server = next(iter(_children(proc.pid, "uvicorn")), None)
            time.sleep(0.2)
        assert server is not None, "the temporary Prefect server never started"
        time.sleep(2)  # let it serve the run for a moment
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{server}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Path(f"/proc/{server}").exists(), "the temporary server was left running"
    finally:
        if proc.poll() is None:
            proc.kill()


def _children(pid: int, name: str) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == pid and name in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_guard_prints_kgrag_errors_and_lets_bugs_keep_their_traceback(capsys):
    import typer

    from kgrag.cli_support import guard
    from kgrag.core.errors import ConfigError

    def user_error() -> None:
        raise ConfigError("unknown retrieval mode 'warp'")

    with pytest.raises(typer.Exit) as stopped:
        guard(user_error)
    assert stopped.value.exit_code == 1
    assert "unknown retrieval mode 'warp'" in capsys.readouterr().err
    with pytest.raises(KeyError):  # a bug, not a user error: not turned into one line
        guard(lambda: {}["missing"])
