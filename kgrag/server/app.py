"""The HTTP API of `kgrag serve` (FastAPI; OpenAPI at /docs).

Bodies are the same types `kgrag ask --json` prints. Routes are plain functions, so
FastAPI runs each request on its own worker thread and queries go side by side; kgrag's
own errors become a 4xx (or 503 for a store or model that is down) whose `detail` is the
one-line reason.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from kgrag import __version__
from kgrag.answering import answer_method
from kgrag.core import errors
from kgrag.core.errors import AuthError, KgragError
from kgrag.server.discovery import LOCAL_TOKEN_HEADER
from kgrag.server.service import Service
from kgrag.workspace import list_workspaces

log = logging.getLogger(__name__)

_STATUS = {
    errors.AuthError: 401,
    errors.PathNotAllowedError: 403,
    errors.WorkspaceNotFoundError: 404,
    errors.DocumentNotFoundError: 404,
    errors.EntityNotFoundError: 404,
    errors.InputNotFoundError: 404,
    errors.QuestionError: 422,
    errors.ConfigError: 422,
    errors.ParseError: 422,
    errors.StoreUnavailableError: 503,
    errors.ServiceError: 503,
    errors.ModelNotFoundError: 503,
}


def status_of(exc: KgragError) -> int:
    for kind in type(exc).__mro__:
        if kind in _STATUS:
            return _STATUS[kind]
    return 400


class QuestionBody(BaseModel):
    question: str
    mode: str | None = None
    k: int | None = Field(default=None, ge=1, le=100)
    stream: bool = False


class AskBody(QuestionBody):
    answer: str = "llm"  # or "evidence": the sources' best sentences, no model


class IngestBody(BaseModel):
    paths: list[str] = Field(min_length=1)


class FolderBody(BaseModel):
    folder: str


def create_app(service: Service, local_token: str | None = None) -> FastAPI:
    """`local_token` (from server.json) marks requests of this home's own clients."""
    settings = service.settings
    app = FastAPI(title="kgrag", version=__version__)

    def authorised(request: Request) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key and request.headers.get("authorization") != f"Bearer {key}":
            raise AuthError("missing or wrong API key (Authorization: Bearer <KGRAG_API_KEY>)")

    def trusted(request: Request) -> bool:
        return local_token is not None and request.headers.get(LOCAL_TOKEN_HEADER) == local_token

    @app.exception_handler(KgragError)
    def kgrag_error(_request: Request, exc: KgragError) -> JSONResponse:
        body = {"detail": str(exc), "error": type(exc).__name__}
        return JSONResponse(body, status_code=status_of(exc))

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "home": str(settings.home)}

    api = Depends(authorised)

    @app.get("/v1/workspaces", dependencies=[api])
    def workspaces() -> list[str]:
        return list_workspaces(settings)

    @app.get("/v1/workspaces/{ws}/status", dependencies=[api])
    def status(ws: str) -> dict[str, Any]:
        return service.client(ws).status()

    @app.get("/v1/workspaces/{ws}/documents", dependencies=[api])
    def documents(ws: str) -> list[dict[str, Any]]:
        return [asdict(d) for d in service.client(ws).graph().documents()]

    @app.post("/v1/workspaces/{ws}/ingest", dependencies=[api], status_code=202)
    def ingest(ws: str, body: IngestBody, request: Request) -> dict[str, Any]:
        paths = [service.allowed_path(p, trusted(request)) for p in body.paths]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise errors.InputNotFoundError(f"{missing[0]}: no such file or folder")
        return {"jobs": [service.submit(ws, p).to_dict() for p in paths]}

    @app.post("/v1/workspaces/{ws}/sync", dependencies=[api], status_code=202)
    def sync(ws: str, body: FolderBody, request: Request) -> dict[str, Any]:
        """Ingest new and changed files of a folder, delete documents of files gone."""
        folder = service.allowed_path(body.folder, trusted(request))
        if not folder.is_dir():
            raise errors.InputNotFoundError(f"{folder}: no such folder")
        return {"jobs": [service.submit(ws, folder, "sync").to_dict()]}

    @app.post("/v1/workspaces/{ws}/upload", dependencies=[api], status_code=202)
    def upload(ws: str, files: Annotated[list[UploadFile], File()]) -> dict[str, Any]:
        folder = service.upload_folder(ws)
        for item in files:
            target = folder / upload_name(item.filename or "upload")
            if target.exists():
                raise errors.ConfigError(f"{item.filename}: uploaded twice in one request")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                while block := item.file.read(1 << 20):
                    out.write(block)
        return {"jobs": [service.submit(ws, folder).to_dict()]}

    @app.get("/v1/jobs/{job_id}", dependencies=[api])
    def job(job_id: str) -> dict[str, Any]:
        found = service.job(job_id)
        if found is None:
            raise errors.InputNotFoundError(f"no job {job_id!r}")
        return found.to_dict()

    @app.delete("/v1/workspaces/{ws}/documents/{target:path}", dependencies=[api])
    def delete(ws: str, target: str) -> dict[str, list[str]]:
        with service.write_lock:
            return {"deleted": service.client(ws).delete(target)}

    @app.post("/v1/workspaces/{ws}/prune", dependencies=[api])
    def prune(ws: str, body: FolderBody, request: Request) -> dict[str, list[str]]:
        folder = service.allowed_path(body.folder, trusted(request))
        with service.write_lock:
            return {"deleted": service.client(ws).prune(folder)}

    @app.post("/v1/workspaces/{ws}/doctor", dependencies=[api])
    def doctor(ws: str, repair: bool = False) -> dict[str, Any]:
        with service.write_lock:
            return asdict(service.client(ws).doctor(repair))

    @app.delete("/v1/workspaces/{ws}", dependencies=[api])
    def reset(ws: str) -> dict[str, str]:
        service.reset(ws)
        return {"workspace": ws, "state": "empty"}

    @app.post("/v1/workspaces/{ws}/retrieve", dependencies=[api])
    def retrieve(ws: str, body: QuestionBody) -> dict[str, Any]:
        return asdict(service.client(ws).search(body.question, body.k, body.mode))

    @app.post("/v1/workspaces/{ws}/ask", dependencies=[api], response_model=None)
    def ask(ws: str, body: AskBody) -> dict[str, Any] | StreamingResponse:
        client = service.client(ws)
        if not body.stream:
            return client.ask(body.question, body.k, body.mode, answer=body.answer).to_dict()
        client.check_question(body.question)  # a bad one is a 4xx, not an error event
        answer_method(body.answer)
        gone = threading.Event()
        return _EventStream(_answer_events(client, body, gone), gone)

    @app.get("/v1/workspaces/{ws}/graph/entity", dependencies=[api])
    def entity(
        ws: str, name: Annotated[str, Query(min_length=1)], hops: int = Query(1, ge=1, le=2)
    ) -> dict[str, Any]:
        return asdict(service.client(ws).neighbourhood(name, hops))

    @app.get("/v1/workspaces/{ws}/graph/export", dependencies=[api])
    def export(ws: str, fmt: Annotated[str, Query(alias="format")] = "json") -> PlainTextResponse:
        text, counts = service.client(ws).export_graph(fmt)
        kind = "application/json" if fmt == "json" else "application/xml"
        headers = {"X-Kgrag-Nodes": str(counts["nodes"]), "X-Kgrag-Edges": str(counts["edges"])}
        return PlainTextResponse(text, media_type=kind, headers=headers)

    from kgrag.server.web import mount  # web page + Neo4j Browser guide: kgrag/server/web

    mount(app, service)
    return app


def upload_name(filename: str) -> Path:
    """An uploaded file's name as a relative path inside the upload folder: its folders
    are kept (two README.md in different folders stay two files), and nothing may climb
    out of the folder or start at the root."""
    parts = [p for p in Path(filename.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
    if not parts:
        raise errors.ConfigError(f"{filename!r}: not a file name")
    return Path(*parts)


class _EventStream(StreamingResponse):
    """Server-Sent Events that set `gone` when the response ends, however it ends: the
    last event sent, or the client gone (Starlette then stops sending, cancelling the
    iteration at its next event)."""

    def __init__(self, events: Iterator[str], gone: threading.Event) -> None:
        super().__init__(events, media_type="text/event-stream")
        self._gone = gone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._gone.set()


class _ClientGone(Exception):
    """Raised by a streamed answer's token callback once nobody reads the stream: it
    ends the generation at the next token, and with it the model's lock, which every
    other question waits for (see `LocalLlama`)."""


def _answer_events(client: Any, body: AskBody, gone: threading.Event) -> Iterator[str]:
    """Server-Sent Events: a `token` event per generated piece, then one `answer` event
    with citations, facts and timings (or one `error` event). Once `gone` is set (the
    client went away), the generation stops at its next token."""
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
    tokens = 0

    def on_token(piece: str) -> None:
        nonlocal tokens
        if gone.is_set():
            raise _ClientGone
        tokens += 1
        pieces.put(("token", piece))

    def run() -> None:
        try:
            answer = client.ask(
                body.question, body.k, body.mode, on_token=on_token, answer=body.answer
            )
            pieces.put(("answer", answer.to_dict()))
        except _ClientGone:
            log.warning("answer stream closed by the client: stopped after %d tokens", tokens)
        except KgragError as exc:
            pieces.put(("error", {"detail": str(exc), "error": type(exc).__name__}))
        except Exception as exc:  # the stream ends with its error, it does not hang
            log.exception("streamed answer failed")
            pieces.put(("error", {"detail": f"{type(exc).__name__}: {exc}", "error": None}))
        finally:
            pieces.put(("end", None))  # wakes a reader still waiting

    threading.Thread(target=run, name="kgrag-ask-stream", daemon=True).start()
    while True:
        kind, data = pieces.get()
        if kind == "end":
            return
        payload = {"text": data} if kind == "token" else data
        yield f"event: {kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
        if kind != "token":
            return
