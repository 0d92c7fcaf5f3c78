"""Running `kgrag serve`: start (or find) this home's graph server, publish where the API
is, load the models of every workspace once, and serve until stopped."""

from __future__ import annotations

import logging
import os
import threading

from kgrag.core.errors import KgragError
from kgrag.core.settings import Settings
from kgrag.server.app import create_app
from kgrag.server.discovery import publish, withdraw
from kgrag.server.service import Service
from kgrag.workspace import list_workspaces

log = logging.getLogger(__name__)


def warm_up(service: Service) -> None:
    """Open the stores and load the models every workspace's queries need, so the first
    question pays nothing (a workspace created later loads on its first use)."""
    try:
        for name in [service.settings.workspace, *list_workspaces(service.settings)]:
            service.client(name).load_models()
    except KgragError as exc:
        log.warning("models not loaded ahead: %s", exc)


def log_to_stderr() -> None:
    """kgrag's own warnings (a model not loaded ahead, a stopped answer stream, a watch
    that failed) go to the server's stderr. Prefect's console handler, which the CLI
    sets to errors only to keep commands quiet, would otherwise swallow them."""
    logger = logging.getLogger("kgrag")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    log_to_stderr()

    if not settings.uses_neo4j and settings.falkordb_autostart:
        from kgrag.services import start
        from kgrag.stores import local_server

        start(local_server(settings))
    service = Service(settings)
    info = publish(settings, f"http://{host}:{port}")
    watches = None
    if os.environ.get("PREFECT_API_URL"):  # scheduled watch runs need a Prefect server
        from kgrag.server.watch import WatchRunner

        watches = WatchRunner(service)
        watches.start()
    try:
        threading.Thread(target=warm_up, args=(service,), name="kgrag-warm-up", daemon=True).start()
        uvicorn.run(
            create_app(service, info.local_token), host=host, port=port, log_level="warning"
        )
    finally:
        if watches is not None:
            watches.stop()
        withdraw(settings, info)
        service.close()
