"""Stores that cannot be used are one-line errors that say why and what to do: a Qdrant
folder held by another process, a graph server that stopped answering, a home kgrag
cannot write in, a graph server that belongs to another home. Real servers throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgrag.core.errors import ServiceError, StoreUnavailableError
from kgrag.core.settings import Settings
from kgrag.kg.falkordb_store import FalkorDBStore
from kgrag.retrievers.vector_index import VectorIndex, close_shared_clients
from kgrag.services import LocalServer, read_pid, start
from kgrag.stores import open_graph, open_vectors
from tests.conftest import free_port

pytestmark = pytest.mark.slow

WRITABLE_HOME = "set KGRAG_HOME to a folder you can write to"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    """A FalkorDB of home `tmp_path/a`, killed by its own pid after the test (a test may
    have restarted it: the pid file names the one running)."""
    local = LocalServer("127.0.0.1", free_port(), tmp_path / "a" / "falkordb")
    start(local)
    yield local
    pid = read_pid(local)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


# ---------------------------------------------------------------- Qdrant's folder lock
HOLD_FOLDER = """
import sys, time
from qdrant_client import QdrantClient
client = QdrantClient(path=sys.argv[1])
print("holding", flush=True)
time.sleep(120)
"""


def test_a_qdrant_folder_held_by_another_process_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "qdrant"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOLDER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        with pytest.raises(StoreUnavailableError) as held:
            VectorIndex("another_workspace", path=folder)
        assert str(held.value) == (
            f"the vector store {folder} is in use by another process (pid {holder.pid}): "
            "stop the other kgrag process using this home, or use a separate KGRAG_HOME"
        )
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    VectorIndex("another_workspace", path=folder)  # free again once the holder is gone
    close_shared_clients(folder)


# ---------------------------------------------------------------- a graph server gone
def test_a_killed_graph_server_is_a_one_line_error(server: LocalServer) -> None:
    store = FalkorDBStore(server.host, server.port, "killed")
    store.run("CREATE (:Document {id: 'kept'})")
    pid = read_pid(server)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

    with pytest.raises(StoreUnavailableError) as gone:
        store.run("MATCH (d:Document) RETURN count(d) AS n")
    message = str(gone.value)
    assert message.startswith(f"graph server at {server.host}:{server.port} is not answering: ")
    assert "Connection refused" in message and "run `kgrag up`" in message
    assert "\n" not in message
    store.close()


def test_a_graph_server_restarted_during_the_retries_is_picked_up(server: LocalServer) -> None:
    store = FalkorDBStore(server.host, server.port, "restarted")
    store.run("CREATE (:Document {id: 'kept'})")
    pid = read_pid(server)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

    restart = threading.Timer(0.3, start, [server])  # within the retries' backoff (1.4 s)
    restart.start()
    try:
        assert store.run("MATCH (d:Document) RETURN count(d) AS n") == [{"n": 1}]
    finally:
        restart.join()
    assert read_pid(server) not in (None, pid)
    store.close()


# ---------------------------------------------------------------- a home kgrag cannot use
def test_a_home_under_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    settings = Settings(home=blocker / "home", falkordb_port=free_port())

    with pytest.raises(StoreUnavailableError) as vectors:
        open_vectors(settings, "w")
    assert str(vectors.value) == (
        f"cannot write to {blocker}/home/qdrant: Not a directory ({blocker} is a file); "
        + WRITABLE_HOME
    )
    with pytest.raises(StoreUnavailableError) as graph:
        open_graph(settings, "w")
    assert str(graph.value) == (
        f"cannot write to {blocker}/home/falkordb: Not a directory ({blocker} is a file); "
        + WRITABLE_HOME
    )
    with pytest.raises(StoreUnavailableError, match=f"cannot write to {blocker}/home/falkordb"):
        start(LocalServer("127.0.0.1", settings.falkordb_port, settings.falkordb_dir))  # `up`


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only folder")
def test_a_read_only_home_is_a_one_line_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o500)
    settings = Settings(home=home, falkordb_port=free_port())
    try:
        with pytest.raises(StoreUnavailableError, match="Permission denied") as vectors:
            open_vectors(settings, "w")
        assert str(vectors.value).startswith(f"cannot write to {home}/qdrant: ")
        with pytest.raises(StoreUnavailableError, match="Permission denied") as graph:
            open_graph(settings, "w")
        assert str(graph.value).startswith(f"cannot write to {home}/falkordb: ")
    finally:
        home.chmod(0o700)


# ---------------------------------------------------------------- another home's server
def test_open_graph_uses_another_homes_server_only_with_autostart_off(
    tmp_path: Path, server: LocalServer
) -> None:
    other_home = tmp_path / "b"
    autostart = Settings(home=other_home, falkordb_port=server.port)
    with pytest.raises(ServiceError, match=f"KGRAG_HOME={(tmp_path / 'a').resolve()}"):
        open_graph(autostart, "w")
    assert not (other_home / "falkordb").exists()

    shared = Settings(home=other_home, falkordb_port=server.port, falkordb_autostart=False)
    store = open_graph(shared, "w")  # shared on purpose, as the test suite does
    assert store.run("RETURN 1 AS one") == [{"one": 1}]
    store.close()
