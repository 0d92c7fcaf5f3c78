"""Fact rendering: format, negation, ranking, dedup and the token budget."""

from __future__ import annotations

from kgrag.core.text import count_tokens
from kgrag.kg.sampling import RelationEdge, SampleResult, Subgraph, SubgraphEntity
from kgrag.kg.verbalize import Fact, verbalize


def graph() -> Subgraph:
    return Subgraph(
        entities=[
            SubgraphEntity("apple", "Apple"),
            SubgraphEntity("beats", "Beats"),
            SubgraphEntity("jobs", "Steve Jobs"),
            SubgraphEntity("aapl", "AAPL"),
            SubgraphEntity("far", "Far Away Co"),
        ],
        chunks=["c1", "c2", "c3"],
        relations=[
            RelationEdge("apple", "beats", "acquired", "c1", "Apple acquired Beats."),
            # Same fact from another chunk: kept once, citing the better-scored chunk c2.
            RelationEdge("apple", "beats", " acquired ", "c2", "Apple has acquired Beats."),
            RelationEdge("jobs", "beats", "founded", "c3", "Jobs did not found Beats.", True),
            RelationEdge("apple", "far", "sued", "c3", "Apple sued Far Away Co."),
        ],
        same_as=[("apple", "aapl", 0.9), ("aapl", "apple", 0.9)],
    )


RESULT = SampleResult(
    chunks=[("c2", 0.2), ("c1", 0.1), ("c3", 0.05)],
    entities=[("apple", 0.3), ("beats", 0.2), ("aapl", 0.1), ("jobs", 0.05)],  # "far" unreached
)
TITLES = {"c1": "Deals", "c2": "Deals 2014", "c3": "Lawsuits"}


def test_format_ranking_dedup_and_negation() -> None:
    facts = verbalize(graph(), RESULT, TITLES, chunk_numbers={"c2": 3})
    assert [f.text for f in facts] == [
        "Apple — acquired → Beats (Deals 2014, chunk 3)",
        "AAPL = Apple",
        "Steve Jobs — not founded → Beats (Lawsuits)",
    ]
    assert [f.chunk_id for f in facts] == ["c2", "", "c3"]
    assert facts[0].score == (0.3 * 0.2) ** 0.5
    assert [f.score for f in facts] == sorted((f.score for f in facts), reverse=True)


def test_negated_and_plain_versions_are_distinct_facts() -> None:
    sub = Subgraph(
        entities=[SubgraphEntity("a", "A"), SubgraphEntity("b", "B")],
        relations=[
            RelationEdge("a", "b", "likes", "c1", "A likes B."),
            RelationEdge("a", "b", "likes", "c2", "A does not like B.", negated=True),
        ],
    )
    result = SampleResult(entities=[("a", 0.5), ("b", 0.5)])
    texts = {f.text for f in verbalize(sub, result, {})}
    assert texts == {"A — likes → B", "A — not likes → B"}


def test_unknown_source_and_name_fallbacks() -> None:
    sub = Subgraph(relations=[RelationEdge("x", "y", "owns", "c9", "")])
    result = SampleResult(entities=[("x", 0.5), ("y", 0.5)])
    assert verbalize(sub, result, {}) == [Fact("x — owns → y", "c9", 0.5)]


def test_budget_cuts_a_prefix_of_the_ranking() -> None:
    full = verbalize(graph(), RESULT, TITLES)
    assert len(full) == 3
    budget = count_tokens(full[0].text) + count_tokens(full[1].text)
    cut = verbalize(graph(), RESULT, TITLES, budget_tokens=budget)
    assert cut == full[:2]
    # One token short of the first fact: nothing fits.
    assert verbalize(graph(), RESULT, TITLES, budget_tokens=count_tokens(full[0].text) - 1) == []


def test_max_facts() -> None:
    assert verbalize(graph(), RESULT, TITLES, max_facts=1) == verbalize(graph(), RESULT, TITLES)[:1]
    assert verbalize(graph(), RESULT, TITLES, max_facts=0) == []


def test_empty_inputs() -> None:
    assert verbalize(Subgraph(), SampleResult(), {}) == []
    assert verbalize(graph(), SampleResult(), TITLES) == []


def test_count_tokens() -> None:
    assert count_tokens("") == 0
    assert count_tokens("abcd") == 1
    assert count_tokens("abcde") == 2
    assert count_tokens("苹果收购了") == 5
    assert count_tokens("苹果 acquired") == 2 + 3  # 2 CJK + ceil(9 / 4)
    assert count_tokens("「東京」") == 4  # CJK punctuation counts per character


def test_duplicate_fact_cites_best_scored_chunk_whatever_the_order() -> None:
    edges = [
        RelationEdge("a", "b", "owns", "weak", "A owns B."),
        RelationEdge("a", "b", "owns", "strong", "A owns B!"),
    ]
    result = SampleResult(
        chunks=[("strong", 0.3), ("weak", 0.1)], entities=[("a", 0.4), ("b", 0.2)]
    )
    for order in (edges, edges[::-1]):
        sub = Subgraph(
            entities=[SubgraphEntity("a", "A"), SubgraphEntity("b", "B")], relations=order
        )
        facts = verbalize(sub, result, {"weak": "Weak", "strong": "Strong"})
        assert [(f.text, f.chunk_id) for f in facts] == [("A — owns → B (Strong)", "strong")]
