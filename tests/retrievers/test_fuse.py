import pytest

from kgrag.core.choices import parse_choice
from kgrag.core.errors import ConfigError
from kgrag.core.types import Hit
from kgrag.retrievers.base import Query, Ranking, SubRetriever
from kgrag.retrievers.bridge import BridgeConfig
from kgrag.retrievers.fuse import (
    FusionMethod,
    fuse,
    reciprocal_rank_fusion,
    weighted_score_fusion,
)
from kgrag.retrievers.pipeline import CHINESE_WEIGHTS, Mode, RetrievalConfig, Retriever


def _ranked(source: str, *ids: str) -> list[Hit]:
    return [Hit(cid, 1.0 / (i + 1), source) for i, cid in enumerate(ids)]


def test_rrf_rewards_agreement_between_lists():
    fused = reciprocal_rank_fusion(
        {"dense": _ranked("dense", "a", "b", "c"), "keyword": _ranked("keyword", "b", "d")}, k=60
    )
    assert fused[0].chunk_id == "b"
    assert fused[0].source == "dense+keyword"
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert {r.chunk_id for r in fused} == {"a", "b", "c", "d"}


def test_rrf_weights_change_the_winner():
    lists = {"dense": _ranked("dense", "a", "b"), "graph": _ranked("graph", "b", "a")}
    assert reciprocal_rank_fusion(lists, weights={"dense": 2.0, "graph": 1.0})[0].chunk_id == "a"
    assert reciprocal_rank_fusion(lists, weights={"dense": 1.0, "graph": 2.0})[0].chunk_id == "b"


def test_weighted_fusion_normalises_scores_per_list():
    lists = {
        "dense": [Hit("a", 0.9, "dense"), Hit("b", 0.8, "dense")],
        "keyword": [Hit("b", 30.0, "keyword"), Hit("c", 10.0, "keyword")],
    }
    fused = weighted_score_fusion(lists)
    scores = {r.chunk_id: r.score for r in fused}
    assert scores == pytest.approx({"a": 1.0, "b": 1.0, "c": 0.0})


def test_weighted_fusion_follows_scores_where_rrf_follows_ranks():
    """b is a close second in both lists: RRF only sees two second places, the scores
    say b nearly won twice."""
    lists = {
        "dense": [Hit("a", 1.0, "dense"), Hit("b", 0.99, "dense"), Hit("c", 0.0, "dense")],
        "keyword": [Hit("c", 1.0, "keyword"), Hit("b", 0.98, "keyword"), Hit("a", 0.0, "keyword")],
    }
    assert fuse(lists, FusionMethod.RRF)[0].chunk_id == "a"
    assert fuse(lists, FusionMethod.WEIGHTED)[0].chunk_id == "b"
    assert fuse(lists, FusionMethod.WEIGHTED, weights={"dense": 0.0})[0].chunk_id == "c"


def test_choices_parse_case_insensitively_and_name_the_valid_ones():
    assert parse_choice(FusionMethod, " RRF ", "fusion") is FusionMethod.RRF
    with pytest.raises(ConfigError, match="unknown fusion 'max': use one of rrf, weighted"):
        parse_choice(FusionMethod, "max", "fusion")


class _Fixed(SubRetriever):
    """A sub-retriever that returns a fixed ranking (fusion is what is under test)."""

    def __init__(self, name: str, *ids: str) -> None:
        self.name = name  # type: ignore[misc]
        self.ids = ids

    def retrieve(self, query: Query, k: int) -> Ranking:
        return Ranking(_ranked(self.name, *self.ids)[:k])


def test_the_question_language_picks_its_fusion_weights():
    # dense's first is graph's fourth and the other way round.
    retrievers = {
        "dense": _Fixed("dense", "dx", "a", "b", "gr"),
        "keyword": _Fixed("keyword", "kw"),
        "graph": _Fixed("graph", "gr", "c", "d", "dx"),
    }
    config = RetrievalConfig(bridges=BridgeConfig(sources=0))  # no graph to read titles from
    retriever = Retriever(retrievers, None, None, None, config)  # type: ignore[arg-type]

    def first(lang: str) -> str:
        query = Query("q", lang, None, None)  # type: ignore[arg-type]
        return retriever._rank(query, Mode.FUSED, 10)[0][0].chunk_id

    assert first("en") == "gr"  # English: the graph list leads
    assert first("zh") == "dx"  # Chinese: dense search leads (CHINESE_WEIGHTS)
    assert CHINESE_WEIGHTS["dense"] > CHINESE_WEIGHTS["graph"]
