"""`kgrag serve` as users run it: a real process with uvicorn on a free port, driven over
HTTP (httpx), through the remote `Client` and through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kgrag.client import Client
from kgrag.core.errors import (
    AuthError,
    ConfigError,
    InputNotFoundError,
    PathNotAllowedError,
    QuestionError,
    WorkspaceNotFoundError,
)
from kgrag.core.settings import Settings
from kgrag.server.discovery import LOCAL_TOKEN_HEADER, running_server
from kgrag.server.remote import RemoteClient
from tests.conftest import EXAMPLES, serve_process

pytestmark = pytest.mark.slow

KEY = "s3cret-test-key"


class Served:
    def __init__(self, settings: Settings, url: str, env: dict[str, str], token: str) -> None:
        self.settings, self.url, self.env, self.token = settings, url, env, token

    def http(self, key: str | None = KEY, local: bool = False) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if local:
            headers[LOCAL_TOKEN_HEADER] = self.token
        return httpx.Client(base_url=self.url, headers=headers, timeout=300)

    def client(self, workspace: str, local: bool = True) -> RemoteClient:
        return RemoteClient(self.url, workspace, self.settings, self.token if local else None)


@pytest.fixture(scope="module")
def served(tmp_path_factory, falkordb_server, prefect_harness) -> Iterator[Served]:
    with serve_process(tmp_path_factory.mktemp("served-home"), falkordb_server, api_key=KEY) as (
        settings,
        env,
        info,
    ):
        yield Served(settings, info.url, env, info.local_token)
    assert running_server(settings) is None  # server.json withdrawn on the way out


@pytest.fixture(scope="module")
def demo(served: Served, tmp_path_factory) -> str:
    """A workspace holding the example corpus, ingested through the API."""
    corpus = tmp_path_factory.mktemp("api-corpus")
    for path in EXAMPLES.iterdir():
        shutil.copy(path, corpus / path.name)
    report = served.client("apidemo").ingest(corpus)
    assert report.indexed == len(list(EXAMPLES.iterdir())) and not report.failed
    return "apidemo"


def test_health_needs_no_key_and_everything_else_does(served: Served):
    assert served.http(key=None).get("/health").json()["status"] == "ok"
    assert served.http(key=None).get("/v1/workspaces").status_code == 401
    response = served.http(key="wrong").get("/v1/workspaces")
    assert response.status_code == 401 and "API key" in response.json()["detail"]
    with pytest.raises(AuthError):
        RemoteClient(served.url, "x", served.settings.model_copy(update={"api_key": None})).status()
    assert served.http().get("/docs").status_code == 200  # OpenAPI page


def test_ingest_job_reports_progress_and_the_documents_are_listed(served: Served, demo: str):
    assert demo in served.http().get("/v1/workspaces").json()
    docs = served.http().get(f"/v1/workspaces/{demo}/documents").json()
    assert sorted(Path(d["path"]).name for d in docs) == sorted(p.name for p in EXAMPLES.iterdir())
    status = served.client(demo).status()
    assert status["served_by"] == served.url and status["graph"]["counts"]["Document"] == 5


def test_retrieve_and_ask_through_the_remote_client(served: Served, demo: str):
    client = Client(workspace=demo, settings=served.settings.model_copy(update={"url": served.url}))
    assert isinstance(client, RemoteClient)  # Client(url=...) is the remote client
    result = client.search("Who discovered polonium and radium?", k=3, mode="fused")
    assert len(result.hits) == 3 and result.hits[0].path.endswith(".md")
    assert result.hits[0].text and result.lang == "en"
    assert client.search("Where did Pierre Curie teach?", 3, "graph").seeds  # typed back

    answer = served.client(demo).ask("Who discovered polonium and radium?", k=3)
    assert answer.text and answer.sources and answer.method == "llm"
    assert {s.chunk_id for s in answer.sources} <= {h.chunk_id for h in result.hits}
    assert all(c in answer.sources for c in answer.citations)  # cited: among those shown
    assert all(s.path for s in answer.sources) and answer.timings["total_ms"] > 0


def test_evidence_answers_through_the_remote_client(served: Served, demo: str):
    question = "Where was Marie Curie born?"
    answer = served.client(demo).ask(question, answer="evidence")
    assert answer.method == "evidence" and "Warsaw" in answer.text, answer.text
    assert answer.citations and all(c in answer.sources for c in answer.citations)
    pieces: list[str] = []
    streamed = served.client(demo).ask(question, answer="evidence", on_token=pieces.append)
    assert pieces == [streamed.text] and streamed.text == answer.text
    with pytest.raises(ConfigError, match="unknown answer 'poem'"):
        served.client(demo).ask(question, answer="poem")
    with pytest.raises(ConfigError, match="unknown answer 'poem'"):  # checked before a stream
        served.client(demo).ask(question, answer="poem", on_token=pieces.append)


def test_ask_streams_tokens_then_the_answer(served: Served, demo: str):
    pieces: list[str] = []
    answer = served.client(demo).ask("Where was Marie Curie born?", on_token=pieces.append)
    assert len(pieces) > 1 and "".join(pieces).strip() == answer.text
    assert answer.sources

    with served.http().stream(
        "POST",
        f"/v1/workspaces/{demo}/ask",
        json={"question": "Who was Tu Youyou?", "stream": True},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line[6:].strip() for line in response.iter_lines() if line.startswith("event:")]
    assert events[0] == "token" and events[-1] == "answer"


def test_the_neighbourhood_of_an_entity(served: Served, demo: str):
    view = served.client(demo).neighbourhood("marie curie")
    assert view.center == "entity:marie curie"
    kinds = {n.kind for n in view.nodes}
    assert kinds == {"entity", "chunk"}
    ids = {n.id for n in view.nodes}
    assert all(e.source in ids and e.target in ids for e in view.edges)
    assert any(e.kind == "MENTIONS" and e.target == view.center for e in view.edges)
    response = served.http().get(f"/v1/workspaces/{demo}/graph/entity", params={"name": "nobody"})
    assert response.status_code == 404 and "nobody" in response.json()["detail"]


def test_bad_input_is_a_4xx_with_a_one_line_reason(served: Served, demo: str, tmp_path: Path):
    http = served.http()
    cases = [
        (http.post("/v1/workspaces/never-made/retrieve", json={"question": "x"}), 404, "no data"),
        (http.post(f"/v1/workspaces/{demo}/ask", json={"question": " "}), 422, "empty"),
        (http.post(f"/v1/workspaces/{demo}/ask", json={"question": "x" * 5000}), 422, "limit"),
        (
            http.post(f"/v1/workspaces/{demo}/retrieve", json={"question": "x", "mode": "warp"}),
            422,
            "unknown retrieval mode",
        ),
        (
            http.post(f"/v1/workspaces/{demo}/ingest", json={"paths": [str(tmp_path)]}),
            403,
            "KGRAG_INGEST_ROOTS",
        ),
        (http.get("/v1/jobs/job-999999"), 404, "no job"),
        (http.delete(f"/v1/workspaces/{demo}/documents/not-a-document"), 404, "no such document"),
        (
            http.post("/v1/workspaces/bad name!/retrieve", json={"question": "x"}),
            422,
            "invalid workspace name",
        ),
    ]
    for response, status, reason in cases:
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        assert reason in detail and "\n" not in detail
    with pytest.raises(WorkspaceNotFoundError):
        served.client("never-made").retrieve("x")
    with pytest.raises(QuestionError, match="empty"):
        served.client(demo).ask("")


def test_paths_outside_the_roots_are_uploaded_instead(served: Served, tmp_path: Path):
    note = tmp_path / "upload-me.md"
    note.write_text("# Upload\n\nIrène Joliot-Curie won the Nobel Prize in Chemistry in 1935.\n")
    remote = served.client("uploads", local=False)  # not this home's own client
    with pytest.raises(PathNotAllowedError):
        remote._json("POST", f"{remote._ws}/ingest", json={"paths": [str(note)]})
    report = remote.ingest(note)
    assert report.indexed == 1
    (doc,) = served.http().get("/v1/workspaces/uploads/documents").json()
    assert doc["path"].startswith(str(served.settings.home / "uploads")) and doc["complete"]

    # Two files of one name in different folders are two documents, and a name cannot
    # climb out of the upload folder.
    for sub, text in (("a", "Pierre Curie taught at the Sorbonne."), ("b", "Tu Youyou won.")):
        (tmp_path / "tree" / sub).mkdir(parents=True)
        (tmp_path / "tree" / sub / "README.md").write_text(f"# {sub}\n\n{text}\n")
    assert remote.ingest(tmp_path / "tree").indexed == 2
    paths = [d["path"] for d in served.http().get("/v1/workspaces/uploads/documents").json()]
    assert sum(p.endswith(("a/README.md", "b/README.md")) for p in paths) == 2
    sneaky = served.http().post(
        "/v1/workspaces/uploads/upload", files=[("files", ("../../escape.md", b"# x\n\ny\n"))]
    )
    assert sneaky.status_code == 202
    assert not (served.settings.home / "escape.md").exists()
    with pytest.raises(InputNotFoundError):
        remote.ingest(tmp_path / "missing.md")


def test_delete_by_id_and_by_path(served: Served, tmp_path: Path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name in ("marie-curie.md", "tu-youyou.md"):
        shutil.copy(EXAMPLES / name, corpus / name)
    client = served.client("deletes")
    client.ingest(corpus)
    docs = {
        Path(d["path"]).name: d["id"]
        for d in served.http().get("/v1/workspaces/deletes/documents").json()
    }
    assert client.delete(docs["marie-curie.md"]) == [docs["marie-curie.md"]]
    assert client.delete(str(corpus / "tu-youyou.md")) == [docs["tu-youyou.md"]]
    assert served.http().get("/v1/workspaces/deletes/documents").json() == []
    assert client.doctor().consistent


def test_queries_run_while_an_ingestion_job_runs(served: Served, demo: str, tmp_path: Path):
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(300):
        (corpus / f"{i}.md").write_text(f"# Note {i}\n\nPierre Curie taught physics, note {i}.\n")
    http = served.http(local=True)
    job = http.post("/v1/workspaces/busy/ingest", json={"paths": [str(corpus)]}).json()["jobs"][0]
    results: list[int] = []

    def ask() -> None:
        body = {"question": "Where did Pierre Curie teach?", "mode": "fused", "k": 3}
        results.append(served.http().post(f"/v1/workspaces/{demo}/retrieve", json=body).status_code)

    while http.get(f"/v1/jobs/{job['id']}").json()["files_total"] == 0:  # not started yet
        time.sleep(0.1)
    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    during = http.get(f"/v1/jobs/{job['id']}").json()
    assert results == [200, 200]
    assert during["state"] == "running" and during["files_done"] < during["files_total"] == 300
    while http.get(f"/v1/jobs/{job['id']}").json()["state"] == "running":
        time.sleep(0.5)
    final = http.get(f"/v1/jobs/{job['id']}").json()
    assert final["state"] == "done" and final["report"]["indexed"] == 300


def test_the_cli_uses_the_running_server(served: Served, demo: str):
    env = {**served.env, "KGRAG_WORKSPACE": demo}
    run = [sys.executable, "-m", "kgrag"]
    status = subprocess.run(
        [*run, "status", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["served_by"] == served.url
    # a model the CLI process could not load: the answer can only come from the server
    no_model = {**env, "KGRAG_LLM_MODEL": str(Path(served.env["KGRAG_HOME"]) / "none.gguf")}
    ask = subprocess.run(
        [*run, "ask", "Who discovered polonium?", "--json"],
        env=no_model,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert answer["sources"] and answer["method"] == "llm" and answer["timings"]
