import pytest

from retrievers.fuse import (
    FusionMethod,
    Ranked,
    fuse,
    reciprocal_rank_fusion,
    weighted_score_fusion,
)


def _ranked(source: str, *ids: str) -> list[Ranked]:
    return [Ranked(cid, 1.0 / (i + 1), source) for i, cid in enumerate(ids)]


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
        "dense": [Ranked("a", 0.9, "dense"), Ranked("b", 0.8, "dense")],
        "keyword": [Ranked("b", 30.0, "keyword"), Ranked("c", 10.0, "keyword")],
    }
    fused = weighted_score_fusion(lists)
    scores = {r.chunk_id: r.score for r in fused}
    assert scores == pytest.approx({"a": 1.0, "b": 1.0, "c": 0.0})


def test_fuse_dispatch_and_from_str():
    assert FusionMethod.from_str("RRF") is FusionMethod.RRF
    with pytest.raises(ValueError, match="unknown fusion"):
        FusionMethod.from_str("max")
    lists = {"dense": _ranked("dense", "x")}
    assert fuse(lists, FusionMethod.WEIGHTED)[0].chunk_id == "x"
