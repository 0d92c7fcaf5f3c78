"""Watched folders: scheduled, incremental syncs of a folder into a workspace, as Prefect
deployments (so runs, logs and artifacts show in the Prefect UI).

`kgrag watch` registers a deployment of `watch_flow` with an interval or cron schedule;
the Prefect server's scheduler creates its runs; `kgrag serve` executes them in its own
process (`WatchRunner`), so a run never fights the served stores for the Qdrant folder,
and writes stay one at a time. A Prefect worker can run the same flow elsewhere (see
infra/prefect.yaml): there it syncs through this home's server, or in-process when none
runs.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.deployments.runner import RunnerDeployment

from kgrag.core.errors import ConfigError, InputNotFoundError
from kgrag.core.ids import normalised_path, stable_hash
from kgrag.core.settings import check_workspace, load_settings
from kgrag.indexing.report import SyncReport
from kgrag.server.service import Service

WATCH_TAG = "kgrag-watch"
POLL_S = 1.0
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
log = logging.getLogger(__name__)

# The serving process's service, when watch runs execute inside `kgrag serve`.
_service: Service | None = None


def parse_every(text: str) -> timedelta:
    """`30s`, `15m`, `2h`, `1d` as a timedelta."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"invalid interval {text!r}: use a number and s, m, h or d (15m)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _sync(path: str, workspace: str) -> SyncReport:
    if _service is not None:
        with _service.write_lock:
            return _service.client(workspace).sync(path)
    from kgrag.client import Client
    from kgrag.server.discovery import running_server
    from kgrag.server.remote import RemoteClient

    settings = load_settings()
    server = None if settings.url else running_server(settings)
    if server is not None:
        return RemoteClient(server.url, workspace, settings, server.local_token).sync(path)
    return Client(workspace=workspace, settings=settings).sync(path)


@flow(name="kgrag-watch", flow_run_name="sync-{workspace}", log_prints=True)
def watch_flow(path: str, workspace: str = "default") -> dict[str, Any]:
    """Sync a folder into a workspace: new files ingested, changed ones re-indexed, gone
    ones deleted. The run fails only when nothing could be processed."""
    logger = get_run_logger()
    report = _sync(path, workspace)
    create_markdown_artifact(
        key=f"kgrag-sync-{workspace.lower().replace('_', '-')}",
        markdown=report.markdown(),
        description=f"kgrag sync of {path}",
    )
    logger.info(
        "synced %s into %r: %d added, %d updated, %d deleted, %d unchanged, %d failed",
        path,
        workspace,
        len(report.added),
        len(report.updated),
        len(report.deleted),
        report.unchanged,
        len(report.failed),
    )
    for failed, reason in report.failed:
        logger.warning("failed %s: %s", failed, reason)
    if report.failed and report.processed == 0:
        raise RuntimeError(f"nothing in {path} could be ingested ({len(report.failed)} failed)")
    return asdict(report)


@dataclass(frozen=True)
class Watch:
    name: str
    path: str
    workspace: str
    schedule: str
    paused: bool


def deployment_name(path: str, workspace: str) -> str:
    return f"{workspace}-{stable_hash(path, length=8)}"


def register(path: str, workspace: str, every: str | None, cron: str | None) -> Watch:
    """Create (or update) the watch of `path` for `workspace`."""
    if (every is None) == (cron is None):
        raise ConfigError("give one schedule: --every (30s, 15m, 2h) or --cron")
    interval = parse_every(every) if every else None
    folder = normalised_path(path)
    if not Path(folder).is_dir():
        raise InputNotFoundError(f"{folder}: no such folder")
    name = deployment_name(folder, check_workspace(workspace))
    deployment = watch_flow.to_deployment(
        name=name,
        interval=interval,
        cron=cron,
        parameters={"path": folder, "workspace": workspace},
        tags=[WATCH_TAG],
        description=f"kgrag: sync {folder} into workspace {workspace}",
    )
    assert isinstance(deployment, RunnerDeployment)  # called outside an event loop
    deployment.apply()
    return Watch(name, folder, workspace, every or cron or "", False)


def list_watches() -> list[Watch]:
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags

    with get_client(sync_client=True) as client:
        deployments = client.read_deployments(
            deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[WATCH_TAG]))
        )
    return [
        Watch(
            d.name,
            str(d.parameters.get("path", "")),
            str(d.parameters.get("workspace", "")),
            ", ".join(_schedule_text(s.schedule) for s in d.schedules),
            bool(d.paused),
        )
        for d in deployments
    ]


def _schedule_text(schedule: Any) -> str:
    interval = getattr(schedule, "interval", None)
    if interval is not None:
        return f"every {interval}"
    return f"cron {getattr(schedule, 'cron', schedule)}"


def remove(target: str) -> list[str]:
    """Delete the watches named `target`, or watching the folder `target`."""
    from prefect import get_client

    folder = normalised_path(target)
    gone = [w for w in list_watches() if target == w.name or w.path == folder]
    with get_client(sync_client=True) as client:
        for watch in gone:
            deployment = client.read_deployment_by_name(f"kgrag-watch/{watch.name}")
            client.delete_deployment(deployment.id)
    return [w.name for w in gone]


class WatchRunner(threading.Thread):
    """Inside `kgrag serve`: runs the watch runs the Prefect scheduler has made due, one
    at a time per watch; when several runs of one watch are due, the newest runs and the
    older ones are cancelled (a sync covers everything before it)."""

    def __init__(self, service: Service) -> None:
        super().__init__(name="kgrag-watches", daemon=True)
        self.service = service
        self._stop = threading.Event()
        self._running: set[str] = set()  # deployment ids with a run in progress

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        global _service
        _service = self.service
        while not self._stop.wait(POLL_S):
            try:
                self._start_due_runs()
            except Exception as exc:  # the Prefect server may be restarting: try again
                log.warning("watch runs not checked: %s", exc)

    def _start_due_runs(self) -> None:
        from prefect import get_client
        from prefect.client.schemas.filters import (
            DeploymentFilter,
            DeploymentFilterTags,
            FlowRunFilter,
            FlowRunFilterExpectedStartTime,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType
        from prefect.client.schemas.sorting import FlowRunSort
        from prefect.states import Cancelled
        from prefect.types._datetime import now

        with get_client(sync_client=True) as client:
            due = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])
                    ),
                    expected_start_time=FlowRunFilterExpectedStartTime(
                        before_=now("UTC")  # type: ignore[arg-type]  # typed DateTime, takes datetime
                    ),
                ),
                deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[WATCH_TAG])),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            )
            newest: dict[str, Any] = {}
            for run in due:
                key = str(run.deployment_id)
                if key in newest:
                    client.set_flow_run_state(
                        newest[key].id, Cancelled(message="skipped: a newer run was due")
                    )
                newest[key] = run
        for key, run in newest.items():
            if key not in self._running:
                self._running.add(key)
                threading.Thread(
                    target=self._execute,
                    args=(key, run),
                    name=f"kgrag-watch-{run.name}",
                    daemon=True,
                ).start()

    def _execute(self, key: str, run: Any) -> None:
        from prefect.flow_engine import run_flow

        try:
            run_flow(watch_flow, flow_run=run, parameters=run.parameters, return_type="state")
        except Exception as exc:  # a failed run is recorded by Prefect; keep watching
            log.warning("watch run %s: %s", run.name, exc)
        finally:
            self._running.discard(key)
