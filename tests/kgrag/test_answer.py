"""cited_numbers / generate_answer with a fake ChatModel (no model)."""

import time
from collections.abc import Callable
from typing import Any

import pytest

from kgrag.core.types import Hit
from kgrag.generation.answer import cited_numbers, generate_answer
from kgrag.generation.chat_model import Messages
from kgrag.generation.context import Context, build_context
from kgrag.generation.prompts import REFUSAL


class FakeLLM:
    """A ChatModel replying with fixed text (as `pieces` when streamed), recording calls."""

    name = "fake"

    def __init__(self, reply: str, pieces: list[str] | None = None, seconds: float = 0.0) -> None:
        self.reply = reply
        self.pieces = pieces or [reply]
        self.seconds = seconds
        self.calls: list[dict[str, Any]] = []

    def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        on_token: Callable[[str], None] | None = None,
        stop: list[str] | None = None,
    ) -> str:
        self.calls.append(
            {
                "messages": messages,
                "max_tokens": max_tokens,
                "temperature": temperature,
                "stream": on_token is not None,
                "stop": stop,
            }
        )
        time.sleep(self.seconds)
        if on_token is None:
            return self.reply
        for piece in self.pieces:
            on_token(piece)
        return "".join(self.pieces)


class NoCallLLM:
    name = "no-call"

    def chat(self, messages: Messages, **kwargs: Any) -> str:
        raise AssertionError("the model must not be called without sources")


def _context(n: int) -> Context:
    hits = [
        Hit(f"c{i}", 0.5 / i, "dense+graph", f"d{i}", f"text {i}", f"/p{i}.md", f"T{i}", (i, 9))
        for i in range(1, n + 1)
    ]
    return build_context(hits, ["A -> B"], budget_tokens=1000)


def _answer(llm: Any, context: Context, **kwargs: Any) -> Any:
    return generate_answer("Q?", "en", context, llm, max_tokens=32, temperature=0.0, **kwargs)


def test_cited_numbers_in_first_seen_order_valid_only():
    text = "See [2] and [1], again [2]; not [7], [0] or [1234]; [3]"
    assert cited_numbers(text, 3) == [2, 1, 3]
    assert cited_numbers(text, 2) == [2, 1]
    assert cited_numbers("no citations", 3) == []


def test_answer_with_citations():
    llm = FakeLLM("  Polonium was found by Curie [2]. See also [9].  ", seconds=0.05)
    ctx = _context(3)
    answer = _answer(llm, ctx)
    assert answer.text == "Polonium was found by Curie [2]. See also [9]."
    assert not answer.refused
    assert [c.n for c in answer.citations] == [2]
    cite = answer.citations[0]
    hit = ctx.sources[1]
    assert (cite.chunk_id, cite.doc_id, cite.path, cite.title, cite.span) == (
        hit.chunk_id,
        hit.doc_id,
        hit.path,
        hit.title,
        hit.span,
    )
    assert (cite.score, cite.source) == (hit.score, "dense+graph")
    assert answer.facts == ["A -> B"]
    assert 50 <= answer.timings["generate_ms"] < 5000  # the model call is what is timed
    (call,) = llm.calls
    assert call["max_tokens"] == 32 and call["temperature"] == 0.0
    system, user = call["messages"]
    assert system["role"] == "system" and REFUSAL["en"] in system["content"]
    assert user["role"] == "user"
    assert user["content"] == (
        "Sources:\n"
        '<source id="1" title="T1">\ntext 1\n</source>\n\n'
        '<source id="3" title="T3">\ntext 3\n</source>\n\n'
        '<source id="2" title="T2">\ntext 2\n</source>\n\n'
        "<facts>\n- A -> B\n</facts>\n\n"
        "Question: Q?\nAnswer (with citations):"
    )


def test_streaming_answer_passes_pieces_to_on_token():
    pieces = ["Curie", " found it", " [1]", "."]
    llm = FakeLLM("", pieces)
    got: list[str] = []
    answer = _answer(llm, _context(2), on_token=got.append)
    assert got == pieces
    assert answer.text == "Curie found it [1]."
    assert [c.n for c in answer.citations] == [1]
    assert llm.calls[0]["stream"] is True


def test_citations_are_only_what_the_model_wrote_and_sources_what_it_was_shown():
    ctx = _context(3)
    answer = _answer(FakeLLM("Curie found polonium."), ctx)
    assert not answer.refused and answer.method == "llm"
    assert answer.citations == []  # it cited nothing, so nothing is counted as cited
    assert [(s.n, s.chunk_id) for s in answer.sources] == [(1, "c1"), (2, "c2"), (3, "c3")]

    cited = _answer(FakeLLM("Curie [3], see [1]."), ctx)
    assert [c.n for c in cited.citations] == [3, 1]
    assert cited.citations == [cited.sources[2], cited.sources[0]]


@pytest.mark.parametrize(
    ("lang", "reply"),
    [
        ("en", REFUSAL["en"] + " [1]"),
        ("en", "I cannot answer that."),
        ("zh", REFUSAL["zh"]),
        ("zh", REFUSAL["en"]),  # the one system prompt offers both sentences
    ],
)
def test_refusal_has_no_citations(lang: Any, reply: str):
    answer = generate_answer(
        "Q?", lang, _context(2), FakeLLM(reply), max_tokens=32, temperature=0.0
    )
    assert answer.refused
    assert answer.citations == []
    assert answer.text == reply
    assert [s.n for s in answer.sources] == [1, 2]  # it was shown them all the same


def test_no_sources_refuses_without_calling_the_model():
    got: list[str] = []
    empty = Context(text="", sources=[], facts=["A -> B"])
    answer = _answer(NoCallLLM(), empty, on_token=got.append)
    assert answer.refused
    assert answer.text == REFUSAL["en"]
    assert got == [REFUSAL["en"]]
    assert answer.citations == [] and answer.sources == []
    assert answer.facts == ["A -> B"]


def test_short_style_asks_for_the_answer_alone():
    llm = FakeLLM("Marie Curie [2]")
    answer = _answer(llm, _context(2), style="short")
    assert [c.n for c in answer.citations] == [2]
    system, user = llm.calls[0]["messages"]
    assert "answer alone" in system["content"] and REFUSAL["en"] in system["content"]
    assert user["content"].endswith("Question: Q?\nShort answer (with citation):")
    assert llm.calls[0]["stop"] == ["\n"]  # a short answer is one line
    full = FakeLLM("x")
    _answer(full, _context(2))
    assert full.calls[0]["messages"][0]["content"] != system["content"]
    assert full.calls[0]["stop"] is None


def test_one_system_prompt_for_both_languages_offers_both_refusals():
    """The model's cached prompt state then survives a change of language."""
    english, chinese = FakeLLM("Marie Curie [2]"), FakeLLM("居里夫人 [2]")
    generate_answer("Q?", "en", _context(2), english, max_tokens=32, temperature=0.0)
    generate_answer("问？", "zh", _context(2), chinese, max_tokens=32, temperature=0.0)
    system_en, user_en = english.calls[0]["messages"]
    system_zh, user_zh = chinese.calls[0]["messages"]
    assert system_en == system_zh
    assert REFUSAL["en"] in system_en["content"] and REFUSAL["zh"] in system_en["content"]
    assert user_en["content"].startswith("Sources:") and user_zh["content"].startswith("资料：")
