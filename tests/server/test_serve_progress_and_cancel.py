"""Issue 12 on a real `kgrag serve` process (uvicorn on a free port, the shipped SmolLM2
model): an ingestion job reports chunks as they are embedded and annotated, and a
streamed answer whose client goes away stops generating, freeing the model."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from kgrag.core.settings import Settings
from kgrag.indexing.report import IngestReport
from kgrag.server.discovery import ServerInfo
from kgrag.server.remote import RemoteClient
from tests.conftest import EXAMPLES, serve_process

pytestmark = pytest.mark.slow

WS = "issue12"
MAX_TOKENS = 400
STOPPED = re.compile(r"answer stream closed by the client: stopped after (\d+) tokens")


@dataclass
class Served:
    home: Path
    settings: Settings
    info: ServerInfo

    def client(self) -> RemoteClient:
        return RemoteClient(self.info.url, WS, self.settings, self.info.local_token)


@pytest.fixture(scope="module")
def served(tmp_path_factory, falkordb_server, prefect_harness) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("issue12-home")
    with pytest.MonkeyPatch.context() as env:
        # The server reads its environment; its own warnings reach its log as they are
        # (the CLI keeps Prefect's console handler to errors).
        env.setenv("KGRAG_LLM_MAX_TOKENS", str(MAX_TOKENS))
        with serve_process(home, falkordb_server) as (settings, _, info):
            yield Served(home, settings, info)


@pytest.fixture(scope="module")
def ingested(served: Served, tmp_path_factory) -> tuple[IngestReport, list[tuple[int, int]]]:
    corpus = tmp_path_factory.mktemp("issue12-corpus")
    for name in ("marie-curie.md", "pierre-curie.md"):
        shutil.copy(EXAMPLES / name, corpus / name)
    seen: list[tuple[int, int]] = []
    report = served.client().ingest(corpus, chunk_progress=lambda *c: seen.append(c))
    assert report.indexed == 2
    return report, seen


def test_the_job_reports_chunks_and_the_remote_client_passes_them_on(
    served: Served, ingested: tuple[IngestReport, list[tuple[int, int]]]
):
    report, seen = ingested
    assert seen and seen[-1] == (report.chunks, report.chunks) and report.chunks > 0
    assert all(a[0] <= b[0] and a[1] <= b[1] and b[0] <= b[1] for a, b in pairwise(seen))
    with served.client()._http as http:  # the job's JSON, as GET /v1/jobs/{id} gives it
        job = http.post(f"/v1/workspaces/{WS}/ingest", json={"paths": [str(EXAMPLES)]})
        job_id = job.json()["jobs"][0]["id"]
        while (body := http.get(f"/v1/jobs/{job_id}").json())["state"] not in ("done", "failed"):
            time.sleep(0.2)
    assert body["state"] == "done" and body["report"]["indexed"] == 5  # other paths: new files
    assert body["chunks_done"] == body["chunks_total"] == body["report"]["chunks"] > 0


def test_a_disconnected_stream_stops_its_generation(served: Served, ingested: object):
    # SmolLM2 goes on to the token limit on this one (about 20 s on two busy cores)
    question = "Tell me everything about Marie Curie, her prizes and her discoveries."
    with (
        httpx.Client(base_url=served.info.url, timeout=120) as http,
        http.stream(
            "POST", f"/v1/workspaces/{WS}/ask", json={"question": question, "stream": True}
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: token"
    # the connection is closed here, after the first token

    answer = served.client().ask("Which Nobel Prizes did Marie Curie win and when?")
    assert answer.text and "generate_ms" in answer.timings  # the model answered it
    log = served.home / "serve.log"
    deadline = time.monotonic() + 30
    while not STOPPED.search(log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    found = STOPPED.search(log.read_text())
    assert found, f"no stopped generation in the server log:\n{log.read_text()[-2000:]}"
    assert 1 <= int(found[1]) < MAX_TOKENS // 4, found[0]
