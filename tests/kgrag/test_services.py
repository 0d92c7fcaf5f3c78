"""The local FalkorDB launcher: start, answer, persist across restart (AOF), stop."""

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
