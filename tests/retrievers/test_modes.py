"""Every retrieval mode, query linking and the graph retriever on the example corpus."""

import pytest

from kgrag.client import Client
from kgrag.runtime import get_runtime
from retrievers.graph import GraphConfig, Sampler, graph_search
from retrievers.linking import LinkingConfig, analyze, link
from retrievers.pipeline import Mode
from retrievers.vector import dense_search

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", [m.value for m in Mode])
def test_every_mode_returns_ranked_hydrated_hits(demo_client: Client, mode: str):
    result = demo_client.search("Where did Pierre Curie teach?", k=3, mode=mode)
    assert 1 <= len(result.hits) <= 3
    assert result.hits[0].path.endswith(".md") or result.hits[0].path.endswith(".txt")
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    assert all(h.text for h in result.hits)
    if mode in ("graph", "fused"):
        assert "graph_ms" in result.timings


def test_linking_exact_and_by_vector(demo_client: Client):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    analysis = analyze("What did Marie Curie discover?", rt.annotator)
    seeds = link(analysis, rt.graph, rt.vectors, rt.embedder)
    exact = [s for s in seeds if s.source == "exact"]
    assert any(s.key == "marie curie" and s.confidence == 1.0 for s in exact), seeds

    misspelt = analyze("What did Marie Curies discover?", rt.annotator)
    seeds = link(misspelt, rt.graph, rt.vectors, rt.embedder)
    assert any(s.key == "marie curie" for s in seeds), seeds


def test_dense_hit_entities_join_as_weaker_seeds_only_when_asked(demo_client: Client):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    question = "Where did Pierre Curie teach?"
    analysis = analyze(question, rt.annotator)
    dense = [r.chunk_id for r in dense_search(rt.vectors, rt.embedder.encode([question])[0], 3)]
    default = link(analysis, rt.graph, rt.vectors, rt.embedder, dense)
    assert all(s.source != "dense-hit" for s in default)  # off by default (see LinkingConfig)

    config = LinkingConfig(dense_hit_chunks=2, dense_hit_confidence=0.3)
    seeds = link(analysis, rt.graph, rt.vectors, rt.embedder, dense, config)
    from_hits = [s for s in seeds if s.source == "dense-hit"]
    assert from_hits and all(s.confidence == 0.3 for s in from_hits)
    mentioned = set(rt.graph.entity_keys_of_chunks(dense[:2]))
    assert {s.key for s in from_hits} <= mentioned


def test_graph_retriever_reaches_the_second_hop_and_verbalises(demo_client: Client):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    question = "Which institute did the daughter of Marie Curie work at?"
    vector = rt.embedder.encode([question])[0]
    dense = dense_search(rt.vectors, vector, 5)
    for sampler in Sampler:
        result = graph_search(rt, question, dense, 5, GraphConfig(sampler=sampler))
        assert result.seeds and result.ranked
        paths = rt.graph.chunks([r.chunk_id for r in result.ranked])
        assert any(str(row["path"]).endswith("radium-institute.txt") for row in paths.values())
    assert all("—" in f or "=" in f for f in result.facts)


def test_unknown_mode_is_rejected(demo_client: Client):
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        demo_client.retrieve("x", mode="warp")
