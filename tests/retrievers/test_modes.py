"""Every retrieval mode, query linking and the graph retriever on the example corpus."""

import pytest

from kgrag.client import Client
from kgrag.core.errors import ConfigError
from kgrag.retrievers.base import Query
from kgrag.retrievers.graph import GraphConfig, GraphRetriever, Sampler
from kgrag.retrievers.linking import LinkingConfig, link
from kgrag.retrievers.pipeline import Mode
from kgrag.retrievers.vector import DenseRetriever
from kgrag.runtime import Runtime, get_runtime

pytestmark = pytest.mark.slow


def _query(rt: Runtime, text: str) -> Query:
    return Query(text, "en", rt.embedder, rt.analyzer)


# keyinfo searches an index the example workspace is built without (it is off by
# default); tests/retrievers/test_keyinfo.py covers it on a workspace that has one.
@pytest.mark.parametrize("mode", [m.value for m in Mode if m is not Mode.KEYINFO])
def test_every_mode_returns_ranked_hydrated_hits(demo_client: Client, mode: str):
    result = demo_client.search("Where did Pierre Curie teach?", k=3, mode=mode)
    assert 1 <= len(result.hits) <= 3
    assert result.hits[0].path.endswith(".md") or result.hits[0].path.endswith(".txt")
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    assert all(h.text and h.doc_id and h.title for h in result.hits)
    assert result.lang == "en"
    if mode in ("graph", "fused"):
        assert "graph_ms" in result.timings and result.seeds
    else:
        assert "graph_ms" not in result.timings and not result.facts


def test_top_k_setting_is_the_default_k(demo_client: Client):
    settings = demo_client.settings.model_copy(update={"top_k": 2})
    client = Client(workspace=demo_client.workspace, settings=settings)
    assert len(client.retrieve("Where did Pierre Curie teach?", mode="dense")) == 2


def test_linking_exact_and_by_vector(demo_client: Client):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    terms = rt.analyzer.analyze("What did Marie Curie discover?")
    seeds = link(terms, rt.graph, rt.entity_index)
    exact = [s for s in seeds if s.source == "exact"]
    assert any(s.key == "marie curie" and s.confidence == 1.0 for s in exact), seeds

    misspelt = rt.analyzer.analyze("What did Marie Curies discover?")
    seeds = link(misspelt, rt.graph, rt.entity_index)
    assert any(s.key == "marie curie" for s in seeds), seeds


def test_dense_hit_entities_join_as_weaker_seeds_only_when_asked(demo_client: Client):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    query = _query(rt, "Where did Pierre Curie teach?")
    dense = [h.chunk_id for h in DenseRetriever(rt.vectors).retrieve(query, 3).hits]
    default = link(query.terms(), rt.graph, rt.entity_index, dense)
    assert all(s.source != "dense-hit" for s in default)  # off by default (see LinkingConfig)

    config = LinkingConfig(dense_hit_chunks=2, dense_hit_confidence=0.3)
    seeds = link(query.terms(), rt.graph, rt.entity_index, dense, config)
    from_hits = [s for s in seeds if s.source == "dense-hit"]
    assert from_hits and all(s.confidence == 0.3 for s in from_hits)
    mentioned = set(rt.graph.entity_keys_of_chunks(dense[:2]))
    assert {s.key for s in from_hits} <= mentioned


def test_graph_retriever_reaches_the_second_hop_and_verbalises(demo_client: Client):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    dense = DenseRetriever(rt.vectors)
    for sampler in Sampler:
        query = _query(rt, "Which institute did the daughter of Marie Curie work at?")
        graph = GraphRetriever(rt.graph, rt.entity_index, dense, GraphConfig(sampler=sampler))
        ranking = graph.retrieve(query, 5)
        assert ranking.evidence is not None and ranking.evidence.seeds and ranking.hits
        records = rt.graph.chunks([h.chunk_id for h in ranking.hits])
        assert any(r.path.endswith("radium-institute.txt") for r in records.values())
        titles = {cid: r.title for cid, r in records.items()}
        facts = ranking.evidence.facts(titles)
        assert facts and all("—" in f.text or "=" in f.text for f in facts)
        assert "dense_ms" in query.timings  # the walk's seed chunks came from the dense list


def test_a_question_reads_the_graph_for_its_chunks_once(demo_client: Client, monkeypatch):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    calls: list[int] = []
    original = rt.graph.chunks

    def counting(ids):
        calls.append(len(ids))
        return original(ids)

    monkeypatch.setattr(rt.graph, "chunks", counting)
    result = demo_client.search("Where did Pierre Curie teach?", k=3, mode="fused")
    assert len(calls) == 1 and result.hits and result.facts


def test_unknown_mode_is_rejected(demo_client: Client):
    with pytest.raises(ConfigError, match="unknown retrieval mode 'warp'"):
        demo_client.retrieve("x", mode="warp")
