"""Answer generation: prompt, LLM call, citation parsing, refusal detection."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from kgrag.core.types import Answer, AnswerMethod, AnswerStyle, Citation, Lang
from kgrag.generation.chat_model import ChatModel
from kgrag.generation.context import Context
from kgrag.generation.prompts import MAX_TOKENS, REFUSAL, STOP, build_messages, is_refusal

_CITE = re.compile(r"\[(\d{1,3})\]")


def cited_numbers(text: str, n_sources: int) -> list[int]:
    """Source numbers cited as [n] in the text, in first-seen order, valid ones only."""
    seen: list[int] = []
    for match in _CITE.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= n_sources and n not in seen:
            seen.append(n)
    return seen


def numbered_sources(context: Context) -> list[Citation]:
    """Every source of the context as a `Citation` with its number, cited or not."""
    return [Citation.of(n, hit) for n, hit in enumerate(context.sources, start=1)]


def refusal(
    question: str,
    lang: Lang,
    facts: list[str],
    method: AnswerMethod = "llm",
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """The refusal sentence as the answer, decided without the model: nothing was
    retrieved, or nothing retrieved was close enough to the question to answer it."""
    if on_token:
        on_token(REFUSAL[lang])
    return Answer(question, REFUSAL[lang], [], facts, {}, refused=True, method=method)


def generate_answer(
    question: str,
    lang: Lang,
    context: Context,
    llm: ChatModel,
    *,
    max_tokens: int,
    temperature: float,
    style: AnswerStyle = "full",
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """With no sources the model is not called: the refusal is certain. `citations` are
    only the sources the model cited as [n]; a reply that cites none has none, and the
    sources it was shown are in `sources` either way."""
    if not context.sources:
        return refusal(question, lang, context.facts, on_token=on_token)
    started = time.perf_counter()
    text = llm.chat(
        build_messages(question, context.text, lang, style),
        max_tokens=min(max_tokens, MAX_TOKENS[style] or max_tokens),
        temperature=temperature,
        on_token=on_token,
        stop=STOP[style],
    ).strip()
    timings = {"generate_ms": (time.perf_counter() - started) * 1000}
    refused = is_refusal(text)
    sources = numbered_sources(context)
    cited = [] if refused else cited_numbers(text, len(sources))
    return Answer(
        question,
        text,
        [sources[n - 1] for n in cited],
        context.facts,
        timings,
        refused=refused,
        sources=sources,
    )
