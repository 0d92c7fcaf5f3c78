"""build_context / edge_order: numbering, layout, dedup, token budget, graph facts."""

import re

import pytest

from kgrag.core.text import count_tokens
from kgrag.core.types import Hit
from kgrag.generation.context import build_context, edge_order


def _hit(cid: str, text: str, title: str = "") -> Hit:
    return Hit(cid, 1.0, "dense", doc_id=f"doc-{cid}", text=text, title=title)


def _numbers_in_layout(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^\[(\d+)\]", text, flags=re.MULTILINE)]


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, []), (1, [0]), (2, [0, 1]), (4, [0, 2, 3, 1]), (5, [0, 2, 4, 3, 1])],
)
def test_edge_order_puts_the_strongest_at_both_ends(n: int, expected: list[int]):
    assert edge_order(n) == expected


def test_sources_numbered_by_rank_and_laid_out_strongest_at_the_edges():
    hits = [_hit(f"c{i}", f"passage number {i}") for i in range(1, 6)]
    ctx = build_context(hits, [], budget_tokens=1000)
    assert ctx.sources == hits  # sources[n - 1] is [n]
    assert _numbers_in_layout(ctx.text) == [1, 3, 5, 4, 2]
    assert "[4] passage number 4" in ctx.text
    assert ctx.facts == []
    assert "Graph facts" not in ctx.text


def test_title_is_shown_next_to_the_number():
    ctx = build_context([_hit("c1", "  Body text.  ", title="Curie")], [], 1000)
    assert ctx.text == "[1] (Curie) Body text."


def test_duplicates_by_chunk_id_and_by_normalised_text_are_dropped():
    hits = [
        _hit("a", "Marie Curie discovered polonium."),
        _hit("a", "A different text but the same chunk."),
        _hit("b", "  marie   CURIE discovered\npolonium. "),
        _hit("c", "Radium glows."),
    ]
    ctx = build_context(hits, [], 1000)
    assert [h.chunk_id for h in ctx.sources] == ["a", "c"]
    assert ctx.sources[0].text == "Marie Curie discovered polonium."
    assert _numbers_in_layout(ctx.text) == [1, 2]


def test_token_budget_is_respected():
    hits = [_hit(f"c{i}", f"{i}" + "w" * 39) for i in range(4)]
    assert count_tokens(hits[0].text) == 10  # + 8 per source = 18
    ctx = build_context(hits, [], budget_tokens=40)
    assert [h.chunk_id for h in ctx.sources] == ["c0", "c1"]
    assert build_context(hits, [], budget_tokens=54).sources == hits[:3]


def test_at_least_one_source_is_kept_even_over_budget():
    hits = [_hit("big", "x" * 4000), _hit("small", "tiny")]
    ctx = build_context(hits, [], budget_tokens=10)
    assert [h.chunk_id for h in ctx.sources] == ["big"]
    assert ctx.text.startswith("[1] xxxx")


def test_facts_block_is_added_and_counts_against_the_budget():
    fact = "f" * 40  # "- " + 40 chars = 11 tokens, under 40 // 3
    hits = [_hit(f"c{i}", f"{i}" + "w" * 39) for i in range(3)]
    ctx = build_context(hits, [fact], budget_tokens=40)
    assert ctx.facts == [fact]
    assert ctx.text.endswith(f"\n\nGraph facts:\n- {fact}")
    assert [h.chunk_id for h in ctx.sources] == ["c0"]  # 18 + 18 + 11 > 40
    assert len(build_context(hits, [], budget_tokens=40).sources) == 2


def test_facts_dropped_when_over_a_third_of_the_budget():
    facts = ["g" * 40, "h" * 40]  # 22 tokens > 60 // 3
    hits = [_hit("c0", "some passage")]
    ctx = build_context(hits, facts, budget_tokens=60)
    assert ctx.facts == []
    assert "Graph facts" not in ctx.text
    assert ctx.sources == hits
    kept = build_context(hits, facts, budget_tokens=66)  # 22 <= 66 // 3
    assert kept.facts == facts
