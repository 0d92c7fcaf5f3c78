"""build_context / edge_order: numbering, fenced layout, dedup, token budget, graph facts."""

import re

import pytest

from kgrag.core.text import count_tokens
from kgrag.core.types import Hit
from kgrag.generation.context import build_context, edge_order, facts_block, source_block


def _hit(cid: str, text: str, title: str = "") -> Hit:
    return Hit(cid, 1.0, "dense", doc_id=f"doc-{cid}", text=text, title=title)


def _numbers_in_layout(text: str) -> list[int]:
    return [int(n) for n in re.findall(r'^<source id="(\d+)"', text, flags=re.MULTILINE)]


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
    assert '<source id="4">\npassage number 4\n</source>' in ctx.text
    assert ctx.text.count("</source>") == 5
    assert ctx.facts == []
    assert "<facts>" not in ctx.text


def test_source_is_fenced_with_its_title():
    ctx = build_context([_hit("c1", "  Body text.  ", title=" Marie\n Curie ")], [], 1000)
    assert ctx.text == '<source id="1" title="Marie Curie">\nBody text.\n</source>'


def test_title_cannot_break_out_of_its_attribute():
    block = source_block(2, _hit("c1", "x", title='a" id="9'))
    assert block == '<source id="2" title="a&#34; id=&#34;9">\nx\n</source>'


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


def test_token_budget_counts_the_fenced_block_and_its_separator():
    hits = [_hit(f"c{i}", f"{i}" + "w" * 39) for i in range(4)]
    block = source_block(1, hits[0])
    assert block == '<source id="1">\n0' + "w" * 39 + "\n</source>"
    assert count_tokens(block) == 17  # 66 characters; + 1 for the separator = 18
    ctx = build_context(hits, [], budget_tokens=40)
    assert [h.chunk_id for h in ctx.sources] == ["c0", "c1"]
    assert count_tokens(ctx.text) <= 40
    assert build_context(hits, [], budget_tokens=54).sources == hits[:3]
    assert build_context(hits, [], budget_tokens=53).sources == hits[:2]


def test_escaping_is_charged_to_the_budget():
    plain = [_hit(f"c{i}", f"{i}" + "w" * 39) for i in range(3)]
    escaped = [_hit(f"c{i}", f"{i}" + "<" * 39) for i in range(3)]  # each "<" -> "&#60;"
    assert len(build_context(plain, [], budget_tokens=54).sources) == 3
    ctx = build_context(escaped, [], budget_tokens=54)
    assert [h.chunk_id for h in ctx.sources] == ["c0"]
    assert "&#60;" * 39 in ctx.text


@pytest.mark.parametrize("budget", [20, 40, 60, 100, 150])
def test_the_context_text_never_counts_more_than_the_budget(budget: int):
    hits = [_hit(f"c{i}", f"passage {i} " * (i + 2), title=f"T{i}") for i in range(8)]
    ctx = build_context(hits, ["A — met → B"], budget_tokens=budget)
    assert count_tokens(ctx.text) <= budget
    taken = len(ctx.sources)
    more = build_context(hits[: taken + 1], ["A — met → B"], budget_tokens=budget + 1000)
    assert len(more.sources) == taken + 1  # it was the budget that stopped the list


def test_at_least_one_source_is_kept_even_over_budget():
    hits = [_hit("big", "x" * 4000), _hit("small", "tiny")]
    ctx = build_context(hits, [], budget_tokens=10)
    assert [h.chunk_id for h in ctx.sources] == ["big"]
    assert ctx.text.startswith('<source id="1">\nxxxx')


def test_facts_block_is_fenced_and_counts_against_the_budget():
    fact = "f" * 40
    block = facts_block([fact])
    assert block == f"<facts>\n- {fact}\n</facts>"
    assert count_tokens(block) == 15  # + 1 for the separator = 16, under 50 // 3
    hits = [_hit(f"c{i}", f"{i}" + "w" * 39) for i in range(3)]
    ctx = build_context(hits, [fact], budget_tokens=50)
    assert ctx.facts == [fact]
    assert ctx.text.endswith(f"</source>\n\n<facts>\n- {fact}\n</facts>")
    assert [h.chunk_id for h in ctx.sources] == ["c0"]  # 16 + 18 + 18 > 50
    assert len(build_context(hits, [], budget_tokens=50).sources) == 2


def test_facts_dropped_when_over_a_third_of_the_budget():
    facts = ["g" * 40, "h" * 40]
    assert count_tokens(facts_block(facts)) + 1 == 27  # > 60 // 3
    hits = [_hit("c0", "some passage")]
    ctx = build_context(hits, facts, budget_tokens=60)
    assert ctx.facts == []
    assert "<facts>" not in ctx.text
    assert ctx.sources == hits
    kept = build_context(hits, facts, budget_tokens=81)  # 27 <= 81 // 3
    assert kept.facts == facts
    assert "<facts>\n- " + "g" * 40 + "\n- " + "h" * 40 + "\n</facts>" in kept.text
