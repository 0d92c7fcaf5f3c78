"""Client: retrieval and cited answers over the ingested example corpus, real tiny GGUF."""

import pytest

from kgrag.client import Client
from kgrag.core.errors import WorkspaceNotFoundError
from kgrag.core.settings import Settings
from kgrag.runtime import get_runtime

pytestmark = pytest.mark.slow


def test_retrieve_ranks_the_right_document_first(demo_client: Client):
    hits = demo_client.retrieve("Who discovered polonium and radium?", k=3, mode="dense")
    assert len(hits) == 3
    assert hits[0].path.endswith("marie-curie.md")
    assert hits[0].score >= hits[1].score


def test_retrieve_chinese_question(demo_client: Client):
    hits = demo_client.retrieve("谁发现了青蒿素？", k=2, mode="hybrid")
    assert any(h.path.endswith(("tu-youyou.md", "qinghaosu.txt")) for h in hits)


def test_ask_cites_ingested_chunks(demo_client: Client):
    streamed: list[str] = []
    answer = demo_client.ask("Who discovered polonium and radium?", on_token=streamed.append)
    assert answer.text and "".join(streamed).strip() == answer.text
    assert answer.citations, answer.text
    graph_chunks = get_runtime(demo_client.settings, demo_client.workspace).graph.chunk_ids()
    assert all(c.chunk_id in graph_chunks for c in answer.citations)
    assert all(c.path for c in answer.citations)
    assert answer.timings["total_ms"] > 0 and "generate_ms" in answer.timings


def test_unknown_workspace_is_a_clear_error_before_any_store_opens(tmp_path):
    settings = Settings(home=tmp_path, falkordb_port=1, falkordb_autostart=False)
    with pytest.raises(WorkspaceNotFoundError, match="kgrag ingest"):
        Client(workspace="never-ingested", settings=settings).retrieve("x")
