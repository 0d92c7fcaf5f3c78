"""The evidence answer: no model. The sentences of the answer's sources that best match
the question, each cited as [n], and the graph facts that link them.

A sentence is scored by two signals that fail in different ways: the cosine between its
vector and the question's (paraphrases, other words for the same thing), and the share
of the question's terms it holds, each term weighted by how rare it is among the
candidate sentences (exact names and numbers, and Chinese, which an English embedding
model reads poorly). The passage's title counts as part of each of its sentences, since
a sentence often names its subject only as "he" or "it".

Sentence splitting and embedding are the caller's (the extractors' splitter and the
workspace's embedder), passed in, so this stage needs no model of its own.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from kgrag.core.types import Answer, Hit, Lang
from kgrag.generation.answer import numbered_sources, refusal
from kgrag.generation.context import Context, build_context
from kgrag.generation.terms import terms

Splitter = Callable[[str, Lang], list[tuple[int, int]]]  # text -> sentence spans
Encoder = Callable[[list[str]], np.ndarray]  # texts -> unit-length rows

MAX_SENTENCES = 3
# The rest is the term overlap. Measured on questions 21-60 of the three dev sets: the
# gold answer was in the top three sentences 65 times of 120 at 0.5, 62 with the term
# overlap alone (which puts it first more often, 43 times against 39).
COSINE_WEIGHT = 0.5
MIN_SENTENCE_CHARS = 8  # headings and list debris are not evidence
MAX_FACTS = 5
# What the LLM reads with KGRAG_ANSWER_CONTEXT=sentences. Five rather than eight: a
# quarter fewer prompt tokens (p50 454 -> 336 on musique-dev, 848 -> 651 on cmrc-trial),
# which is most of an answer's time on a CPU, at the same F1 within noise (questions
# 1-60: musique 4.9 / 4.8, hotpotqa 9.2 / 9.2; cmrc 1-40: 18.7 / 17.6).
MAX_CONTEXT_SENTENCES = 5


@dataclass(frozen=True)
class Sentence:
    """A sentence of source [n], and how well it matches the question."""

    n: int
    text: str
    score: float
    order: int = 0  # position among all sources' sentences, in reading order


def rank_sentences(
    question: str,
    lang: Lang,
    sources: list[Hit],
    split: Splitter,
    encode_question: Encoder | None,
    encode_sentences: Encoder | None,
) -> list[Sentence]:
    """Every distinct sentence of `sources` (source n = sources[n - 1]), best first.
    Without encoders, by the term overlap alone: no model runs, which matters where
    the embedder is slow (multilingual-e5 on CPU embeds tens of sentences a second)."""
    candidates: list[tuple[int, str, set[str]]] = []
    seen: set[str] = set()
    for n, hit in enumerate(sources, start=1):
        title_terms = terms(hit.title)
        for start, end in split(hit.text, lang):
            text = " ".join(hit.text[start:end].split())
            key = text.casefold()
            if len(text) < MIN_SENTENCE_CHARS or text.startswith("#") or key in seen:
                continue
            seen.add(key)
            candidates.append((n, text, terms(text) | title_terms))
    if not candidates:
        return []
    overlap = _term_overlap(terms(question), [t for _, _, t in candidates])
    if encode_question is None or encode_sentences is None:
        cosine, weight = np.zeros(len(candidates)), 0.0
    else:
        vectors = encode_sentences([text for _, text, _ in candidates])
        cosine, weight = vectors @ encode_question([question])[0], COSINE_WEIGHT
    scored = [
        Sentence(n, text, weight * float(cos) + (1 - weight) * share, order)
        for order, ((n, text, _), cos, share) in enumerate(
            zip(candidates, cosine, overlap, strict=True)
        )
    ]
    return sorted(scored, key=lambda s: -s.score)


def _term_overlap(question: set[str], sentences: list[set[str]]) -> list[float]:
    """Per sentence, the IDF-weighted share of the question's terms it holds (0..1),
    the IDF taken over these sentences; terms no sentence holds are left out."""
    df = Counter(t for held in sentences for t in held & question)
    idf = {t: math.log(1 + len(sentences) / count) for t, count in df.items()}
    total = sum(idf.values())
    if not total:
        return [0.0] * len(sentences)
    return [sum(idf[t] for t in held & idf.keys()) / total for held in sentences]


def linking_facts(facts: list[str], question: str, chosen: list[Sentence]) -> list[str]:
    """The graph facts that connect two of the pieces (the question, each chosen
    sentence), sharing a term with each: those that touch the most pieces first, then
    in their retrieval order, at most `MAX_FACTS`."""
    pieces = [terms(question), *(terms(s.text) for s in chosen)]
    touched = [(sum(bool(terms(f) & piece) for piece in pieces), f) for f in facts]
    linking = sorted((t for t in touched if t[0] >= 2), key=lambda t: -t[0])
    return [f for _, f in linking[:MAX_FACTS]]


def evidence_answer(
    question: str,
    lang: Lang,
    context: Context,
    split: Splitter,
    encode_question: Encoder,
    encode_sentences: Encoder,
    *,
    max_sentences: int = MAX_SENTENCES,
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """The best `max_sentences` sentences, best first, each followed by [n]; the whole
    text is passed to `on_token` at once. No sources (or no sentence in them) is the
    refusal, as with the model."""
    started = time.perf_counter()
    ranked = rank_sentences(
        question, lang, context.sources, split, encode_question, encode_sentences
    )
    if not ranked:
        return refusal(question, lang, context.facts, "evidence", on_token)
    chosen = ranked[:max_sentences]
    space = "" if lang == "zh" else " "  # Chinese text has no spaces between sentences
    text = space.join(f"{s.text}{space}[{s.n}]" for s in chosen)
    if on_token:
        on_token(text)
    sources = numbered_sources(context)
    cited = list(dict.fromkeys(s.n for s in chosen))
    return Answer(
        question,
        text,
        [sources[n - 1] for n in cited],
        linking_facts(context.facts, question, chosen),
        {"evidence_ms": (time.perf_counter() - started) * 1000},
        sources=sources,
        method="evidence",
    )


def sentence_context(
    question: str, context: Context, ranked: list[Sentence], budget_tokens: int
) -> Context:
    """`context` cut down to its best `MAX_CONTEXT_SENTENCES` sentences that score above
    nothing (that share a term with the question; the best one when none does), for the
    LLM: each source keeps only its chosen sentences, in reading order; a source with none
    is left out and the rest are numbered again. The returned sources are the whole passages, so
    a citation still points at the passage, and the facts are those that link the
    chosen sentences. A small model reads about a quarter of the tokens, and less that
    does not bear on the question."""
    chosen = [s for s in ranked[:MAX_CONTEXT_SENTENCES] if s.score > 0] or ranked[:1]
    kept: dict[int, list[Sentence]] = {}
    for sentence in sorted(chosen, key=lambda s: s.order):
        kept.setdefault(sentence.n, []).append(sentence)
    numbers = sorted(kept)  # sources stay in rank order
    trimmed = [
        replace(context.sources[n - 1], text=" ".join(s.text for s in kept[n])) for n in numbers
    ]
    facts = linking_facts(context.facts, question, chosen)
    cut = build_context(trimmed, facts, budget_tokens)
    whole = {hit.chunk_id: hit for hit in context.sources}
    return Context(cut.text, [whole[hit.chunk_id] for hit in cut.sources], cut.facts)
