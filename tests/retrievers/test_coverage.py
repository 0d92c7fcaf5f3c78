"""Question coverage: the first places go to hits that cover the question together."""

from dataclasses import replace

import pytest

from kgrag.client import Client
from kgrag.core.types import Hit
from kgrag.retrievers.coverage import CoverageConfig, cover
from kgrag.retrievers.pipeline import Mode
from kgrag.runtime import get_runtime

QUESTION = "How many Publix stores are in the state where Hello Love's performer lived?"
PASSAGES = {
    "publix-a": ("Publix", "Publix runs 1,200 stores in Florida and six more states."),
    "publix-b": ("Publix", "Publix stores sell groceries; the chain is employee-owned."),
    "weather": ("Climate", "The region has a humid climate."),
    "song": ("Hello Love (song)", "Hello Love was recorded by its performer Hank Snow."),
    "snow": ("Hank Snow", "Hank Snow lived in Nashville."),
}


def _hits(*ids: str) -> list[Hit]:
    return [
        Hit(i, 1.0 / (rank + 1), "graph", title=PASSAGES[i][0], text=PASSAGES[i][1])
        for rank, i in enumerate(ids)
    ]


def _order(hits: list[Hit]) -> list[str]:
    return [h.chunk_id for h in hits]


def test_a_hit_repeating_covered_words_gives_way_to_one_that_adds_the_others():
    hits = _hits("publix-a", "publix-b", "weather", "song", "snow")
    # publix-b adds nothing publix-a did not cover; the song's passage adds "hello",
    # "love", "performer" and moves up; the rest keep their rank order.
    assert _order(cover(QUESTION, hits)) == ["publix-a", "song", "publix-b", "weather", "snow"]


def test_the_first_hit_stays_and_weight_zero_changes_nothing():
    hits = _hits("weather", "publix-a", "song")
    assert _order(cover(QUESTION, hits))[0] == "weather"
    assert cover(QUESTION, hits, CoverageConfig(weight=0)) == hits
    assert cover("", hits) == hits  # a question with no words to cover


def test_only_the_first_depth_hits_are_reordered():
    hits = _hits("publix-a", "publix-b", "weather", "song", "snow")
    assert _order(cover(QUESTION, hits, CoverageConfig(depth=3))) == _order(hits)
    moved = cover(QUESTION, hits, CoverageConfig(depth=4))
    assert _order(moved) == ["publix-a", "song", "publix-b", "weather", "snow"]


def test_chinese_questions_are_covered_word_by_word():
    question = "屠呦呦发现的青蒿素用于治疗什么疾病？"
    hits = [
        Hit("a", 1.0, "graph", title="屠呦呦", text="屠呦呦是中国药学家。"),
        Hit("b", 0.9, "graph", title="屠呦呦", text="屠呦呦出生于宁波。"),
        Hit("c", 0.8, "graph", title="青蒿素", text="青蒿素用于治疗疟疾。"),
    ]
    assert _order(cover(question, hits)) == ["a", "c", "b"]


@pytest.mark.slow
def test_modes_with_the_graph_are_covered_and_dense_is_not(demo_client: Client):
    retriever = get_runtime(demo_client.settings, demo_client.workspace).retriever
    question = "Which prize did Tu Youyou and Marie Curie both win?"
    fused = retriever.retrieve(question, 5, Mode.FUSED)
    assert "coverage_ms" in fused.timings
    assert "coverage_ms" not in retriever.retrieve(question, 5, Mode.DENSE).timings
    # Coverage reorders the ranking the mode gives after fusion and title bridges.
    config = retriever.config
    retriever.config = replace(config, coverage=CoverageConfig(weight=0))
    try:
        uncovered = retriever.retrieve(question, 10, Mode.FUSED)
    finally:
        retriever.config = config
    assert _order(fused.hits) == _order(cover(question, uncovered.hits))[:5]
