"""The `kgrag` command as a user runs it (subprocess), against the test servers."""

import json
import subprocess
import sys
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
    assert answer["citations"] and answer["citations"][0]["path"].startswith(str(corpus))


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
