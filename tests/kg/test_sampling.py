"""Known-answer tests for the subgraph samplers on small hand-made graphs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kgrag.kg.sampling import (
    RelationEdge,
    SamplerConfig,
    SampleResult,
    Subgraph,
    SubgraphEntity,
    personalized_pagerank,
    random_walk_with_restart,
)


def ent(key: str, mention_count: int = 1, is_hub: bool = False) -> SubgraphEntity:
    return SubgraphEntity(key=key, name=key.upper(), mention_count=mention_count, is_hub=is_hub)


def chain() -> Subgraph:
    """A in c1; c1 also mentions B; B in c2. c3 mentions only the unrelated C."""
    return Subgraph(
        entities=[ent("a"), ent("b"), ent("c")],
        chunks=["c1", "c2", "c3"],
        mentions=[("c1", "a", 1.0), ("c1", "b", 1.0), ("c2", "b", 1.0), ("c3", "c", 1.0)],
    )


def scores(pairs: list[tuple[str, float]]) -> dict[str, float]:
    return dict(pairs)


def assert_proper(result: SampleResult) -> None:
    for pairs in (result.chunks, result.entities):
        values = [s for _, s in pairs]
        assert values == sorted(values, reverse=True)
        assert all(s > 0 for s in values)
    total = sum(s for _, s in result.chunks) + sum(s for _, s in result.entities)
    assert total <= 1 + 1e-9


def test_two_hop_chunk_outranks_unrelated_chunk() -> None:
    result = personalized_pagerank(chain(), {"a": 1.0}, {}, SamplerConfig())
    assert_proper(result)
    chunk_scores = scores(result.chunks)
    assert [c for c, _ in result.chunks] == ["c1", "c2"]  # c3 is unreachable: left out
    assert chunk_scores["c2"] > 0
    assert "c3" not in chunk_scores
    # Entities and chunks are the only nodes, so the distribution is complete.
    total = sum(chunk_scores.values()) + sum(s for _, s in result.entities)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_exact_two_node_answer() -> None:
    # r_a = (1 - d) + d * r_c1 and r_c1 = d * r_a; with d = 0.5: r_a = 2/3, r_c1 = 1/3.
    sub = Subgraph(entities=[ent("a")], chunks=["c1"], mentions=[("c1", "a", 1.0)])
    config = SamplerConfig(damping=0.5, tol=1e-12, max_iter=200)
    result = personalized_pagerank(sub, {"a": 1.0}, {}, config)
    assert scores(result.entities)["a"] == pytest.approx(2 / 3, abs=1e-9)
    assert scores(result.chunks)["c1"] == pytest.approx(1 / 3, abs=1e-9)


def hub_graph(hub: bool) -> Subgraph:
    """From seed A's chunk c1, the strong (count 3) way out is via H to c2, the weak one via
    B to c3. Flagging H as a hub should reverse which of c2/c3 is more relevant."""
    return Subgraph(
        entities=[ent("a"), ent("h", is_hub=hub), ent("b")],
        chunks=["c1", "c2", "c3"],
        mentions=[
            ("c1", "a", 1.0),
            ("c1", "h", 3.0),
            ("c1", "b", 1.0),
            ("c2", "h", 1.0),
            ("c3", "b", 1.0),
        ],
    )


def test_hub_down_weighting_changes_ranking() -> None:
    plain = scores(personalized_pagerank(hub_graph(False), {"a": 1.0}, {}).chunks)
    hubbed = scores(personalized_pagerank(hub_graph(True), {"a": 1.0}, {}).chunks)
    assert plain["c2"] > plain["c3"]
    assert hubbed["c3"] > hubbed["c2"]
    # hub_weight 1 switches the penalty off.
    neutral = personalized_pagerank(hub_graph(True), {"a": 1.0}, {}, SamplerConfig(hub_weight=1))
    assert scores(neutral.chunks) == pytest.approx(plain)


def test_higher_damping_spreads_mass_further() -> None:
    low = personalized_pagerank(chain(), {"a": 1.0}, {}, SamplerConfig(damping=0.3))
    high = personalized_pagerank(chain(), {"a": 1.0}, {}, SamplerConfig(damping=0.85))
    assert scores(high.chunks)["c2"] > scores(low.chunks)["c2"]
    assert scores(high.entities)["a"] < scores(low.entities)["a"]


def test_dangling_seed_mass_returns_to_seeds() -> None:
    # "z" has no edges. Its stationary mass solves r_z = (1 - d) p_z + d r_z p_z.
    sub = chain()
    sub.entities.append(ent("z"))
    d = 0.5
    result = personalized_pagerank(
        sub, {"a": 1.0, "z": 1.0}, {}, SamplerConfig(damping=d, tol=1e-12, max_iter=200)
    )
    p_z = 0.5
    expected = (1 - d) * p_z / (1 - d * p_z)
    assert scores(result.entities)["z"] == pytest.approx(expected, abs=1e-9)
    total = sum(s for _, s in result.entities) + sum(s for _, s in result.chunks)
    assert total == pytest.approx(1.0, abs=1e-9)


def test_isolated_seed_keeps_all_mass() -> None:
    sub = Subgraph(entities=[ent("z")], chunks=["c9"])
    result = personalized_pagerank(sub, {"z": 0.7}, {})
    assert result.entities == [("z", pytest.approx(1.0))]
    assert result.chunks == []


@pytest.mark.parametrize(
    ("sub", "entity_seeds", "chunk_seeds"),
    [
        (Subgraph(), {}, {}),
        (Subgraph(), {"a": 1.0}, {"c1": 1.0}),
        (chain(), {}, {}),
        (chain(), {"missing": 1.0}, {"nope": 1.0}),
        (chain(), {"a": 0.0, "b": -1.0, "c": math.nan}, {"c1": math.inf}),
    ],
)
def test_no_usable_seed_gives_empty_result(
    sub: Subgraph, entity_seeds: dict[str, float], chunk_seeds: dict[str, float]
) -> None:
    assert personalized_pagerank(sub, entity_seeds, chunk_seeds) == SampleResult()
    assert random_walk_with_restart(sub, entity_seeds, chunk_seeds) == SampleResult()


def test_zero_group_weight_disables_that_group() -> None:
    config = SamplerConfig(entity_seed_weight=0.0)
    assert personalized_pagerank(chain(), {"a": 1.0}, {}, config) == SampleResult()
    result = personalized_pagerank(chain(), {"a": 1.0}, {"c3": 1.0}, config)
    assert result.chunks[0][0] == "c3"
    assert "c1" not in scores(result.chunks)


def test_chunk_seeds_alone_spread_to_entities() -> None:
    config = SamplerConfig(chunk_scores_exclude_restart=False)
    result = personalized_pagerank(chain(), {}, {"c2": 1.0}, config)
    assert result.chunks[0][0] == "c2"
    assert result.entities[0][0] == "b"
    assert "c" not in scores(result.entities)


def test_specific_entity_seed_outweighs_common_one() -> None:
    sub = Subgraph(
        entities=[ent("rare", mention_count=1), ent("common", mention_count=1000)],
        chunks=["c_rare", "c_common"],
        mentions=[("c_rare", "rare", 1.0), ("c_common", "common", 1.0)],
    )
    result = scores(personalized_pagerank(sub, {"rare": 1.0, "common": 1.0}, {}).chunks)
    # specificity 1 / log2(1 + n): 1 vs ~0.1.
    assert result["c_rare"] / result["c_common"] == pytest.approx(math.log2(1001), rel=1e-3)


def test_edge_kinds_and_weights_matter() -> None:
    sub = Subgraph(
        entities=[ent("a"), ent("b"), ent("c")],
        chunks=["c1", "c2"],
        relations=[RelationEdge("a", "b", "acquired", "c1", "A acquired B.")],
        same_as=[("a", "c", 0.9)],
        next_edges=[("c1", "c2")],
        mentions=[("c1", "a", 1.0)],
    )
    base = personalized_pagerank(sub, {"a": 1.0}, {})
    assert_proper(base)
    assert {e for e, _ in base.entities} == {"a", "b", "c"}
    assert {c for c, _ in base.chunks} == {"c1", "c2"}
    no_relations = personalized_pagerank(sub, {"a": 1.0}, {}, SamplerConfig(relation_weight=0))
    assert "b" not in scores(no_relations.entities)
    more_same_as = personalized_pagerank(sub, {"a": 1.0}, {}, SamplerConfig(same_as_weight=5))
    assert scores(more_same_as.entities)["c"] > scores(base.entities)["c"]
    no_next = personalized_pagerank(sub, {"a": 1.0}, {}, SamplerConfig(next_weight=0))
    assert "c2" not in scores(no_next.chunks)


def test_implicit_endpoints_and_namespaces() -> None:
    # "x" is both an entity key and a chunk id, and neither node list declares it.
    sub = Subgraph(mentions=[("x", "x", 1.0)])
    result = personalized_pagerank(sub, {"x": 1.0}, {})
    assert [e for e, _ in result.entities] == ["x"]
    assert [c for c, _ in result.chunks] == ["x"]
    assert_proper(result)


def test_duplicate_declarations_are_collapsed() -> None:
    sub = chain()
    sub.entities = [ent("b"), *sub.entities, ent("a", mention_count=7, is_hub=True)]
    sub.chunks = [*sub.chunks, "c1"]
    result = personalized_pagerank(sub, {"a": 1.0}, {})
    assert_proper(result)
    assert sorted(e for e, _ in result.entities) == ["a", "b"]
    assert [c for c, _ in result.chunks] == ["c1", "c2"]
    # The last declaration of "a" wins: it is a hub, so c1 sends less mass back to it than
    # in the plain chain (with the first declaration the scores would be identical).
    plain = personalized_pagerank(chain(), {"a": 1.0}, {})
    assert scores(result.entities)["a"] < scores(plain.entities)["a"] - 0.01


def ring_graph() -> Subgraph:
    """A small graph with clearly separated scores: a path of chunks and entities off a seed."""
    entities = [ent(f"e{i}") for i in range(8)]
    chunks = [f"c{i}" for i in range(8)]
    mentions = [(f"c{i}", f"e{i}", 1.0) for i in range(8)]
    mentions += [(f"c{i}", f"e{i + 1}", 1.0) for i in range(7)]
    mentions += [("c0", "e3", 0.5)]
    return Subgraph(entities=entities, chunks=chunks, mentions=mentions, next_edges=[("c5", "c6")])


def test_rwr_agrees_with_ppr() -> None:
    sub = ring_graph()
    config = SamplerConfig(tol=1e-12, max_iter=200)
    exact = personalized_pagerank(sub, {"e0": 1.0}, {"c4": 0.5}, config)
    approx = random_walk_with_restart(
        sub, {"e0": 1.0}, {"c4": 0.5}, config, walks=40000, walk_length=30, seed=7
    )
    assert_proper(approx)
    assert [c for c, _ in approx.chunks[:3]] == [c for c, _ in exact.chunks[:3]]
    # e4 and e5 are within Monte Carlo noise of each other: compare the top-3 as a set.
    assert approx.entities[0][0] == exact.entities[0][0]
    assert {e for e, _ in approx.entities[:3]} == {e for e, _ in exact.entities[:3]}
    exact_all = scores(exact.chunks) | scores(exact.entities)
    approx_all = scores(approx.chunks) | scores(approx.entities)
    l1 = sum(abs(exact_all[k] - approx_all.get(k, 0.0)) for k in exact_all)
    assert l1 < 0.03


def test_rwr_is_deterministic_per_seed() -> None:
    sub = ring_graph()
    first = random_walk_with_restart(sub, {"e0": 1.0}, {}, walks=500, seed=3)
    second = random_walk_with_restart(sub, {"e0": 1.0}, {}, walks=500, seed=3)
    other = random_walk_with_restart(sub, {"e0": 1.0}, {}, walks=500, seed=4)
    assert first == second
    assert first != other


def test_rwr_stops_at_dangling_and_degenerate_sizes() -> None:
    sub = Subgraph(entities=[ent("z")])
    assert random_walk_with_restart(sub, {"z": 1.0}, {}).entities == [("z", 1.0)]
    assert random_walk_with_restart(chain(), {"a": 1.0}, {}, walks=0) == SampleResult()
    assert random_walk_with_restart(chain(), {"a": 1.0}, {}, walk_length=0) == SampleResult()
    one_step = random_walk_with_restart(chain(), {"a": 1.0}, {}, walk_length=1)
    assert one_step.entities == [("a", 1.0)]
    assert one_step.chunks == []


def test_large_random_graph_is_a_proper_distribution() -> None:
    rng = np.random.default_rng(0)
    n_ent, n_chunk, n_edges = 2500, 2500, 50_000
    ent_idx = rng.integers(0, n_ent, n_edges)
    chunk_idx = rng.integers(0, n_chunk, n_edges)
    sub = Subgraph(
        entities=[
            SubgraphEntity(f"e{i}", f"E{i}", int(rng.integers(1, 500)), bool(rng.random() < 0.02))
            for i in range(n_ent)
        ],
        chunks=[f"c{i}" for i in range(n_chunk)],
        mentions=[
            (f"c{c}", f"e{e}", float(w))
            for c, e, w in zip(chunk_idx, ent_idx, rng.integers(1, 4, n_edges), strict=True)
        ],
    )
    seeds = {f"e{i}": float(rng.random()) for i in range(5)}
    config = SamplerConfig(chunk_scores_exclude_restart=False)
    result = personalized_pagerank(sub, seeds, {"c0": 0.5, "c1": 0.2}, config)
    assert_proper(result)
    total = sum(s for _, s in result.chunks) + sum(s for _, s in result.entities)
    assert total == pytest.approx(1.0, abs=1e-5)
    assert len(result.chunks) + len(result.entities) > 0.9 * (n_ent + n_chunk)

    # Without the chunk seeds' restart: their group's share (0.5 of 1.5) times (1 - damping).
    default = SamplerConfig()
    excluded = personalized_pagerank(sub, seeds, {"c0": 0.5, "c1": 0.2}, default)
    total = sum(s for _, s in excluded.chunks) + sum(s for _, s in excluded.entities)
    assert total == pytest.approx(1.0 - (0.5 / 1.5) * (1 - default.damping), abs=1e-5)


@pytest.mark.parametrize("sampler", [personalized_pagerank, random_walk_with_restart])
def test_seed_chunk_ranks_on_graph_support_not_on_its_own_restart(sampler) -> None:  # type: ignore[no-untyped-def]
    """c3 is a dense hit nothing else points at; c1 is where the question's entity is.
    At damping 0.5 c3's restart share (a third of 0.5) beats what the walk brings c1."""
    config = SamplerConfig(damping=0.5, chunk_scores_exclude_restart=False)
    kept = sampler(chain(), {"a": 1.0}, {"c3": 1.0}, config)
    assert kept.chunks[0][0] == "c3"  # its restart share alone puts it first
    excluded = sampler(chain(), {"a": 1.0}, {"c3": 1.0}, SamplerConfig(damping=0.5))
    assert [cid for cid, _ in excluded.chunks] == ["c1", "c3", "c2"]
    assert scores(excluded.entities) == scores(kept.entities)  # entity scores unchanged
