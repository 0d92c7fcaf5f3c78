"""Answer generation: prompt, LLM call, citation parsing, refusal detection."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from kgrag.core.types import Answer, Citation, Lang
from kgrag.generation.chat_model import ChatModel
from kgrag.generation.context import Context
from kgrag.generation.prompts import REFUSAL, build_messages, is_refusal

_CITE = re.compile(r"\[(\d{1,3})\]")


def cited_numbers(text: str, n_sources: int) -> list[int]:
    """Source numbers cited as [n] in the text, in first-seen order, valid ones only."""
    seen: list[int] = []
    for match in _CITE.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= n_sources and n not in seen:
            seen.append(n)
    return seen


def generate_answer(
    question: str,
    lang: Lang,
    context: Context,
    llm: ChatModel,
    *,
    max_tokens: int,
    temperature: float,
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """With no sources the model is not called: the refusal is certain. When the model
    cites nothing, every source it was given is listed, since the answer came from them."""
    if not context.sources:
        if on_token:
            on_token(REFUSAL[lang])
        return Answer(question, REFUSAL[lang], [], context.facts, {}, refused=True)
    started = time.perf_counter()
    text = llm.chat(
        build_messages(question, context.text, lang),
        max_tokens=max_tokens,
        temperature=temperature,
        on_token=on_token,
    ).strip()
    timings = {"generate_ms": (time.perf_counter() - started) * 1000}
    refused = is_refusal(text, lang)
    numbers = cited_numbers(text, len(context.sources))
    if not numbers and not refused:
        numbers = list(range(1, len(context.sources) + 1))
    citations = [] if refused else [Citation.of(n, context.sources[n - 1]) for n in numbers]
    return Answer(question, text, citations, context.facts, timings, refused=refused)
