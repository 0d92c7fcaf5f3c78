"""Turn ranked hits and graph facts into the numbered context the LLM reads.

Sources are numbered by rank (1 = strongest) and laid out strongest-at-the-edges
(1, 3, 5, ..., 4, 2), because models attend least to the middle of a long context.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kgrag.core.text import count_tokens
from kgrag.core.types import Hit


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


def build_context(hits: list[Hit], facts: list[str], budget_tokens: int) -> Context:
    seen_chunks: set[str] = set()
    seen_texts: set[str] = set()
    chosen: list[Hit] = []
    used = 0
    fact_lines = [f"- {f}" for f in facts]
    fact_cost = sum(count_tokens(line) for line in fact_lines)
    if fact_cost > budget_tokens // 3:  # facts never crowd out the passages
        fact_lines, fact_cost = [], 0
    for hit in hits:
        key = " ".join(hit.text.split()).casefold()
        if hit.chunk_id in seen_chunks or key in seen_texts:
            continue
        cost = count_tokens(hit.text) + 8
        if chosen and used + cost + fact_cost > budget_tokens:
            break
        seen_chunks.add(hit.chunk_id)
        seen_texts.add(key)
        chosen.append(hit)
        used += cost
    blocks = []
    for i in edge_order(len(chosen)):
        hit = chosen[i]
        title = f" ({hit.title})" if hit.title else ""
        blocks.append(f"[{i + 1}]{title} {hit.text.strip()}")
    text = "\n\n".join(blocks)
    if fact_lines:
        text += "\n\nGraph facts:\n" + "\n".join(fact_lines)
    return Context(text=text, sources=chosen, facts=[line[2:] for line in fact_lines])
