"""The web page of `kgrag serve` (at `/`): ask, explore the graph, manage documents.

The page is plain HTML, CSS and JavaScript in `static/`; it talks to the JSON API like any
client. The graph drawing is vis-network, served from the pyvis package that ships it, so
no asset comes from the internet. Besides the page, `mount` adds the Neo4j Browser guide
(`:play <server>/neo4j/guide.html`) and style (`:style <server>/neo4j/kgrag.grass`), and
the few reads the page needs that the API did not have: documents with their chunk and
entity counts, a chunk with its neighbours (a citation's passage), the most mentioned
entities, and the graph walk behind an answer.

The page and its assets need no API key (they hold no data); every JSON route does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from kgrag.core.errors import AuthError, InputNotFoundError, ServiceError, WorkspaceNotFoundError
from kgrag.kg.store import GraphStore
from kgrag.runtime import get_runtime
from kgrag.server.service import Service
from kgrag.server.web.answer_graph import answer_graph
from kgrag.server.web.guide import GRASS_PATH, GUIDE_PATH, render_guide
from kgrag.workspace import load_config

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
GUIDE_DOC = HERE / "neo4j" / "exploring-the-graph.md"  # links to docs/
GRASS = HERE / "neo4j" / "kgrag.grass"  # links to infra/neo4j/
# Neo4j Browser fetches guides and styles from its own page (another origin), with
# `pragma` and `cache-control` headers, so it asks first (a CORS preflight).
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Max-Age": "600",
}


class AnswerGraphBody(BaseModel):
    question: str
    k: int | None = Field(default=None, ge=1, le=100)
    cited: list[str] = Field(default_factory=list, max_length=100)


def vis_network_folder() -> Path | None:
    """The newest vis-network build shipped in the pyvis package (`lib/vis-<version>/`)."""
    try:
        lib = Path(str(resources.files("pyvis"))) / "lib"
    except ModuleNotFoundError:
        return None
    builds = [p.parent for p in lib.glob("vis-*/vis-network.min.js")]

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", folder.name))

    return max(builds, key=version) if builds else None


def mount(app: FastAPI, service: Service) -> None:
    """Add the page, its assets, the Neo4j Browser guide and the page's JSON reads."""
    settings = service.settings

    def authorised(request: Request) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key and request.headers.get("authorization") != f"Bearer {key}":
            raise AuthError("missing or wrong API key (Authorization: Bearer <KGRAG_API_KEY>)")

    api = Depends(authorised)

    def existing(ws: str) -> GraphStore:
        """The graph of a workspace that holds data (else a 404, and no graph is made)."""
        client = service.client(ws)
        if load_config(settings, client.workspace) is None:
            raise WorkspaceNotFoundError(f"workspace {client.workspace!r} has no data yet")
        return client.graph()

    # ------------------------------------------------------------ the page
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")
    vis = vis_network_folder()
    if vis is not None:
        app.mount("/web/vendor", StaticFiles(directory=vis), name="web-vendor")
    else:
        log.warning("pyvis is not installed: the web page cannot draw the graph")

        @app.get("/web/vendor/{name}", include_in_schema=False)
        def no_vendor(name: str) -> None:
            raise ServiceError("pyvis (which ships vis-network) is not installed")

    # ------------------------------------------------------------ Neo4j Browser
    @app.get(GUIDE_PATH, include_in_schema=False)
    def guide(request: Request) -> HTMLResponse:
        if not GUIDE_DOC.is_file():
            raise InputNotFoundError(f"{GUIDE_DOC}: the guide's doc is not installed")
        text = render_guide(GUIDE_DOC.read_text(encoding="utf-8"), str(request.base_url))
        return HTMLResponse(text, headers=CORS)

    @app.get(GRASS_PATH, include_in_schema=False)
    def grass() -> PlainTextResponse:
        if not GRASS.is_file():
            raise InputNotFoundError(f"{GRASS}: the style is not installed")
        return PlainTextResponse(GRASS.read_text(encoding="utf-8"), headers=CORS)

    @app.options(GUIDE_PATH, include_in_schema=False)
    @app.options(GRASS_PATH, include_in_schema=False)
    def preflight() -> Response:
        return Response(status_code=204, headers=CORS)

    # ------------------------------------------------------------ the page's reads
    @app.get("/v1/workspaces/{ws}/stats/documents", dependencies=[api])
    def document_stats(ws: str) -> list[dict[str, Any]]:
        """Documents with their chunk and entity counts ([] for a workspace without data)."""
        if load_config(settings, service.client(ws).workspace) is None:
            return []
        return [asdict(d) for d in service.client(ws).graph().document_stats()]

    @app.get("/v1/workspaces/{ws}/passage", dependencies=[api])
    def passage(ws: str, chunk_id: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
        """A chunk with the chunks before and after it in its document."""
        graph = existing(ws)
        before, after = graph.chunk_neighbours(chunk_id)
        ids = [chunk_id, *(c for c in (before, after) if c)]
        records = graph.chunks(ids)
        if chunk_id not in records:
            raise InputNotFoundError(f"no chunk {chunk_id!r} in workspace {ws!r}")

        def record(cid: str | None) -> dict[str, Any] | None:
            return asdict(records[cid]) if cid and cid in records else None

        return {"chunk": record(chunk_id), "before": record(before), "after": record(after)}

    @app.get("/v1/workspaces/{ws}/graph/top-entities", dependencies=[api])
    def top_entities(ws: str, limit: int = Query(20, ge=1, le=200)) -> list[dict[str, Any]]:
        return [asdict(e) for e in existing(ws).top_entities(limit)]

    @app.post("/v1/workspaces/{ws}/graph/answer", dependencies=[api])
    def graph_of_answer(ws: str, body: AnswerGraphBody) -> dict[str, Any]:
        """The graph walk behind an answer to `question`: seeds, best nodes, cited chunks."""
        client = service.client(ws)
        client.check_question(body.question)
        retriever = get_runtime(settings, client.workspace).retriever
        k = body.k or settings.top_k
        return answer_graph(retriever, body.question, k, body.cited).to_dict()
