"""Turn the scored subgraph into short, cited fact lines for the reader's prompt.

The reader gets a handful of facts next to the retrieved passages. Facts are ranked by how
relevant both of their endpoints are (their sampler scores), deduplicated, and cut to a
token budget so the graph never crowds the passages out of the context window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from kgrag.core.text import count_tokens
from kgrag.kg.sampling import SampleResult, Subgraph


@dataclass(frozen=True)
class Fact:
    """One verbalised edge. `chunk_id` is the chunk the fact was extracted from ("" for
    SAME_AS links, which come from entity resolution rather than a passage)."""

    text: str
    chunk_id: str
    score: float


def verbalize(
    sub: Subgraph,
    result: SampleResult,
    doc_titles: Mapping[str, str],
    budget_tokens: int = 300,
    max_facts: int = 30,
    chunk_numbers: Mapping[str, int] | None = None,
) -> list[Fact]:
    """Render the subgraph's RELATION and SAME_AS edges as ranked fact lines.

    * RELATION: "Apple — acquired → Beats (Some Doc, chunk 3)", with "not " before the
      predicate when negated. The parenthesis names the source: the title from
      `doc_titles` (keyed by chunk id) and the number from `chunk_numbers` (chunk id ->
      whatever numbering the caller shows, e.g. `Chunk.idx`); either part is left out
      when unknown, and the parenthesis with them.
    * SAME_AS: "A = B".

    A fact scores sqrt(score(src) * score(dst)), the geometric mean of its endpoints'
    sampler scores: a fact between two relevant entities beats one between a seed and a
    stray neighbour, which an arithmetic mean would rank alike. Facts with an endpoint the
    sampler never reached score 0 and are dropped.

    The same (src, predicate, dst, negation) - or the same unordered SAME_AS pair - is kept
    once, citing the chunk the sampler scored highest. The ranked list is cut at
    `max_facts`, and at the first fact that would take the total `count_tokens` of the
    fact texts past `budget_tokens`, so the output is always a prefix of the ranking.
    """
    entity_score = dict(result.entities)
    chunk_score = dict(result.chunks)
    names = {e.key: e.name for e in sub.entities}

    # (fact score, chunk score, text, chunk id) per dedup key; keep the best-cited copy.
    best: dict[tuple[str, ...], tuple[float, float, str, str]] = {}

    def offer(key: tuple[str, ...], score: float, text: str, chunk_id: str) -> None:
        candidate = (score, chunk_score.get(chunk_id, 0.0), text, chunk_id)
        current = best.get(key)
        if current is None or candidate[:2] > current[:2]:
            best[key] = candidate

    for rel in sub.relations:
        score = _pair_score(entity_score, rel.src_key, rel.dst_key)
        if score <= 0:
            continue
        predicate = " ".join(rel.predicate.split())
        verb = f"not {predicate}" if rel.negated else predicate
        text = f"{names.get(rel.src_key, rel.src_key)} — {verb} → "
        text += names.get(rel.dst_key, rel.dst_key)
        source = _source(rel.chunk_id, doc_titles, chunk_numbers)
        if source:
            text += f" ({source})"
        key = (rel.src_key, predicate.casefold(), rel.dst_key, str(rel.negated))
        offer(key, score, text, rel.chunk_id)

    for a, b, _ in sub.same_as:
        score = _pair_score(entity_score, a, b)
        if score <= 0 or a == b:
            continue
        first, second = sorted((a, b))
        text = f"{names.get(first, first)} = {names.get(second, second)}"
        offer(("=", first, second), score, text, "")

    ranked = sorted(best.values(), key=lambda c: (-c[0], -c[1], c[2]))
    facts: list[Fact] = []
    used = 0
    for score, _, text, chunk_id in ranked[: max(max_facts, 0)]:
        used += count_tokens(text)
        if used > budget_tokens:
            break
        facts.append(Fact(text=text, chunk_id=chunk_id, score=score))
    return facts


def _pair_score(scores: Mapping[str, float], a: str, b: str) -> float:
    return math.sqrt(scores.get(a, 0.0) * scores.get(b, 0.0))


def _source(
    chunk_id: str, doc_titles: Mapping[str, str], chunk_numbers: Mapping[str, int] | None
) -> str:
    parts = []
    title = doc_titles.get(chunk_id)
    if title:
        parts.append(title)
    if chunk_numbers is not None and chunk_id in chunk_numbers:
        parts.append(f"chunk {chunk_numbers[chunk_id]}")
    return ", ".join(parts)
