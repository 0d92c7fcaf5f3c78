"""How a client finds the server of its home: `kgrag serve` writes `server.json` (url,
pid and a local token, readable by this user only) under $KGRAG_HOME while it runs.

The local token lets a client of the same home on the same machine ingest by path
anywhere it could read itself; other callers are limited to KGRAG_INGEST_ROOTS."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from kgrag.core.settings import Settings

LOCAL_TOKEN_HEADER = "X-Kgrag-Local-Token"


@dataclass(frozen=True)
class ServerInfo:
    url: str
    pid: int
    local_token: str


def info_path(settings: Settings) -> Path:
    return settings.home / "server.json"


def publish(settings: Settings, url: str) -> ServerInfo:
    info = ServerInfo(url, os.getpid(), secrets.token_urlsafe(24))
    path = info_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(info), out)
    return info


def withdraw(settings: Settings, info: ServerInfo) -> None:
    """Remove server.json if it is still ours (a newer server may have replaced it)."""
    if running_server(settings) == info:
        info_path(settings).unlink(missing_ok=True)


def running_server(settings: Settings) -> ServerInfo | None:
    """The server of this home, when its process is alive."""
    try:
        info = ServerInfo(**json.loads(info_path(settings).read_text(encoding="utf-8")))
        os.kill(info.pid, 0)
    except (OSError, ValueError, TypeError):
        return None
    return info
