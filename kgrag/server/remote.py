"""`RemoteClient`: the `Client` methods over HTTP, against `kgrag serve`.

Same methods, same return types (rebuilt from the JSON with pydantic), same errors: a 4xx
or 5xx from the server is raised as the kgrag error it stands for, with its one-line
reason. Importing this module loads no model, so a CLI call through a running server
starts in well under a second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from kgrag.core import errors
from kgrag.core.settings import Settings, check_workspace, load_settings
from kgrag.core.types import Answer, Hit
from kgrag.indexing.doctor import DoctorReport
from kgrag.indexing.report import IngestReport, SyncReport
from kgrag.server.discovery import LOCAL_TOKEN_HEADER

if TYPE_CHECKING:  # imported where used: they bring the retrievers' numeric stack
    from kgrag.retrievers.explore import GraphView
    from kgrag.retrievers.pipeline import Retrieval

T = TypeVar("T")
Progress = Callable[[int, int, list[tuple[str, str]]], None]
ChunkProgress = Callable[[int, int], None]  # (chunks done, chunks in all), as in the flow

POLL_S = 0.2


class RemoteClient:
    def __init__(
        self,
        url: str,
        workspace: str | None = None,
        settings: Settings | None = None,
        local_token: str | None = None,
        timeout: float = 600.0,
    ) -> None:
        """`local_token` (from the home's server.json) lets this client ingest by path."""
        self.settings = settings or load_settings()
        self.workspace = check_workspace(
            self.settings.workspace if workspace is None else workspace
        )
        self.url = url.rstrip("/")
        headers = {}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key.get_secret_value()}"
        if local_token:
            headers[LOCAL_TOKEN_HEADER] = local_token
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    @property
    def _ws(self) -> str:
        return f"/v1/workspaces/{self.workspace}"

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise errors.ServiceError(
                f"kgrag server at {self.url} is not answering: {exc}"
            ) from exc
        _raise_for(response)
        return response

    def _json(self, method: str, path: str, kind: type[T] | Any = None, **kwargs: Any) -> Any:
        data = self._call(method, path, **kwargs).json()
        return data if kind is None else TypeAdapter(kind).validate_python(data)

    # ------------------------------------------------------------ ingestion
    def ingest(
        self,
        path: str | Path,
        show_progress: bool = False,
        progress: Progress | None = None,
        chunk_progress: ChunkProgress | None = None,
    ) -> IngestReport:
        """Ingest a file or folder by path; a server that may not read the path gets the
        files uploaded instead. The callbacks are told what the job says, at each poll."""
        local = Path(path).expanduser().resolve()
        if not local.exists():
            raise errors.InputNotFoundError(f"{local}: no such file or folder")
        try:
            job = self._json("POST", f"{self._ws}/ingest", json={"paths": [str(local)]})
        except errors.PathNotAllowedError:
            job = self._upload(local)
        return self._follow(job["jobs"][0]["id"], show_progress, progress, chunk_progress)

    def _upload(self, local: Path) -> Any:
        from kgrag.indexing.discovery import discover

        root = local if local.is_dir() else local.parent
        files = [
            ("files", (p.relative_to(root).as_posix(), p.open("rb"))) for p in discover(local).files
        ]
        try:
            return self._json("POST", f"{self._ws}/upload", files=files)
        finally:
            for _, (_, handle) in files:
                handle.close()

    def sync(
        self,
        folder: str | Path,
        progress: Progress | None = None,
        chunk_progress: ChunkProgress | None = None,
    ) -> SyncReport:
        """The server ingests new and changed files and deletes documents of files gone."""
        body = {"folder": str(Path(folder).expanduser().resolve())}
        job = self._json("POST", f"{self._ws}/sync", json=body)["jobs"][0]
        report: SyncReport = self._follow(job["id"], False, progress, chunk_progress, SyncReport)
        return report

    def _follow(
        self,
        job_id: str,
        show_progress: bool,
        progress: Progress | None,
        chunk_progress: ChunkProgress | None = None,
        kind: type[T] | Any = IngestReport,
    ) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        with RichProgress(
            TextColumn("[bold]ingest {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=not show_progress,
        ) as bars:
            bar = bars.add_task("files", total=None)
            chunk_bar = bars.add_task("chunks", total=None, visible=False)
            while True:
                job = self._json("GET", f"/v1/jobs/{job_id}")
                bars.update(bar, completed=job["files_done"], total=job["files_total"] or None)
                chunks = job.get("chunks_done", 0), job.get("chunks_total", 0)  # older servers
                if chunks[1]:
                    bars.update(chunk_bar, completed=chunks[0], total=chunks[1], visible=True)
                if progress is not None:
                    failed = [tuple(f) for f in job["failed"]]
                    progress(job["files_done"], job["files_total"], failed)
                if chunk_progress is not None:
                    chunk_progress(*chunks)
                if job["state"] == "failed":
                    raise errors.ServiceError(f"ingestion failed on the server: {job['error']}")
                if job["state"] == "done":
                    return TypeAdapter(kind).validate_python(job["report"])
                time.sleep(POLL_S)

    def delete(self, target: str) -> list[str]:
        """A document id, or a file path (on the server's disk: every version of it)."""
        path = f"{self._ws}/documents/{quote(target, safe='')}"
        deleted: list[str] = self._json("DELETE", path)["deleted"]
        return deleted

    def prune(self, folder: str | Path) -> list[str]:
        body = {"folder": str(Path(folder).expanduser().resolve())}
        deleted: list[str] = self._json("POST", f"{self._ws}/prune", json=body)["deleted"]
        return deleted

    def doctor(self, repair: bool = False) -> DoctorReport:
        report: DoctorReport = self._json(
            "POST", f"{self._ws}/doctor", DoctorReport, params={"repair": repair}
        )
        return report

    def reset(self) -> None:
        self._call("DELETE", self._ws)

    # ------------------------------------------------------------ queries
    def search(self, question: str, k: int | None = None, mode: str | None = None) -> Retrieval:
        from kgrag.retrievers.pipeline import Retrieval

        body = {"question": question, "k": k, "mode": mode}
        retrieval: Retrieval = self._json("POST", f"{self._ws}/retrieve", Retrieval, json=body)
        return retrieval

    def retrieve(self, question: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        return self.search(question, k, mode).hits

    def ask(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        on_token: Callable[[str], None] | None = None,
        answer: str = "llm",
    ) -> Answer:
        body = {
            "question": question,
            "k": k,
            "mode": mode,
            "stream": on_token is not None,
            "answer": answer,
        }
        if on_token is None:
            reply: Answer = self._json("POST", f"{self._ws}/ask", Answer, json=body)
            return reply
        with self._http.stream("POST", f"{self._ws}/ask", json=body) as response:
            if response.status_code >= 400:
                response.read()
                _raise_for(response)
            for kind, data in _events(response.iter_lines()):
                if kind == "token":
                    on_token(data["text"])
                elif kind == "answer":
                    return TypeAdapter(Answer).validate_python(data)
                else:
                    raise _error(data.get("error"), data["detail"])
        raise errors.ServiceError(f"kgrag server at {self.url} ended the answer stream early")

    # ------------------------------------------------------------ inspection
    def status(self) -> dict[str, Any]:
        info: dict[str, Any] = self._json("GET", f"{self._ws}/status")
        info["served_by"] = self.url
        return info

    def neighbourhood(self, name: str, hops: int = 1) -> GraphView:
        from kgrag.retrievers.explore import GraphView

        view: GraphView = self._json(
            "GET", f"{self._ws}/graph/entity", GraphView, params={"name": name, "hops": hops}
        )
        return view

    def export_graph(self, fmt: str = "json") -> tuple[str, dict[str, int]]:
        response = self._call("GET", f"{self._ws}/graph/export", params={"format": fmt})
        counts = {
            "nodes": int(response.headers["X-Kgrag-Nodes"]),
            "edges": int(response.headers["X-Kgrag-Edges"]),
        }
        return response.text, counts

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _raise_for(response: httpx.Response) -> None:
    """A server error as the kgrag error it names, with its one-line reason."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail")
    if not isinstance(detail, str):  # FastAPI's own request validation: a list of problems
        detail = f"HTTP {response.status_code}: {detail or response.text[:200]}"
    raise _error(body.get("error"), detail)


def _error(name: str | None, detail: str) -> errors.KgragError:
    kind = getattr(errors, name or "", None)
    if (
        isinstance(kind, type)
        and issubclass(kind, errors.KgragError)
        and kind is not errors.ParseError
    ):
        return kind(detail)
    return errors.ServiceError(detail)


def _events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event, data) pairs of a Server-Sent Events stream."""
    kind, data = "message", ""
    for line in lines:
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif not line and data:
            yield kind, json.loads(data)
            kind, data = "message", ""
