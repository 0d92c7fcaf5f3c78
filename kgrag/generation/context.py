"""Turn ranked hits and graph facts into the numbered context the LLM reads.

Sources are numbered by rank (1 = strongest) and laid out strongest-at-the-edges
(1, 3, 5, ..., 4, 2), because models attend least to the middle of a long context.

Document content is untrusted, so every source is fenced as quoted material,
`<source id="n" title="...">` ... `</source>`, the graph facts (built from document text)
as `<facts>` ... `</facts>`, and all text inside goes through `neutralize`, so it cannot
close a fence, open a chat turn or imitate the prompt's labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kgrag.core.text import count_tokens
from kgrag.core.types import Hit
from kgrag.generation.prompts import neutralize

SEPARATOR = "\n\n"  # between blocks; charged as one token to the block it precedes


@dataclass
class Context:
    text: str
    sources: list[Hit]  # sources[n - 1] is source [n]
    facts: list[str] = field(default_factory=list)


def edge_order(n: int) -> list[int]:
    """Indices 0..n-1 arranged best-first at the start and second-best at the end."""
    front = list(range(0, n, 2))
    back = list(range(1, n, 2))
    return front + back[::-1]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def source_block(n: int, hit: Hit) -> str:
    """Source [n] fenced; the title is one line in a quoted attribute."""
    title = neutralize(_one_line(hit.title)).replace('"', "&#34;")
    attr = f' title="{title}"' if title else ""
    return f'<source id="{n}"{attr}>\n{neutralize(hit.text.strip())}\n</source>'


def facts_block(facts: list[str]) -> str:
    lines = "\n".join(f"- {neutralize(_one_line(f))}" for f in facts)
    return f"<facts>\n{lines}\n</facts>"


def _cost(block: str) -> int:
    return count_tokens(block) + count_tokens(SEPARATOR)


def build_context(hits: list[Hit], facts: list[str], budget_tokens: int) -> Context:
    """Budget: every block is charged the `count_tokens` of exactly what the model reads
    (fence, title and escaped text) plus one token for its separator, so the context
    text never counts more than `budget_tokens`. The facts block is charged first but
    dropped when it would take more than a third of the budget; sources then follow in
    rank order until the next would not fit, except that the strongest is always kept."""
    seen_chunks: set[str] = set()
    seen_texts: set[str] = set()
    chosen: list[Hit] = []
    used = 0
    fact_cost = _cost(facts_block(facts)) if facts else 0
    if fact_cost > budget_tokens // 3:  # facts never crowd out the passages
        facts, fact_cost = [], 0
    for hit in hits:
        key = " ".join(hit.text.split()).casefold()
        if hit.chunk_id in seen_chunks or key in seen_texts:
            continue
        cost = _cost(source_block(len(chosen) + 1, hit))
        if chosen and used + cost + fact_cost > budget_tokens:
            break
        seen_chunks.add(hit.chunk_id)
        seen_texts.add(key)
        chosen.append(hit)
        used += cost
    blocks = [source_block(i + 1, chosen[i]) for i in edge_order(len(chosen))]
    if facts:
        blocks.append(facts_block(facts))
    return Context(text=SEPARATOR.join(blocks), sources=chosen, facts=list(facts))
