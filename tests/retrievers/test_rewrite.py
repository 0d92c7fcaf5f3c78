"""Query rephrasing/rewriting: exact parsing with a fake LLM, structure with the real tiny GGUF."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kgrag.core.types import Hit
from kgrag.generation.chat_model import Messages
from kgrag.generation.llm import LocalLlama, default_model_path, open_llama
from kgrag.retrievers.fuse import reciprocal_rank_fusion
from kgrag.retrievers.rewrite import (
    MAX_QUERY_CHARS,
    multi_query_fuse,
    rephrasings,
    rewrite_query,
)


class FakeLLM:
    """A ChatModel answering every chat with a fixed text, recording the calls."""

    name = "fake"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls: list[dict[str, Any]] = []

    def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        on_token: Callable[[str], None] | None = None,
    ) -> str:
        assert on_token is None, "rewriting does not stream"
        self.calls.append(
            {"messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        )
        return self.reply


QUESTION = "Who founded Apple?"
JUNK = "\n".join(
    [
        "Here are three rephrasings:",
        "",
        '1. "Who created Apple?"',
        "2) Who started Apple Inc.?",
        "- who created apple",  # duplicate of 1 (case, final punctuation)
        "* Who founded Apple?",  # the original
        "x" * (MAX_QUERY_CHARS + 1),
        "   ",
        "• Question: Which person set up Apple?",
        "(4) 3.5 million people use what?",
    ]
)


def test_rephrasings_cleans_dedups_and_drops_the_original():
    llm = FakeLLM(JUNK)
    out = rephrasings(llm, QUESTION, 5, "en")
    assert out == [
        "Who created Apple?",
        "Who started Apple Inc.?",
        "Which person set up Apple?",
        "3.5 million people use what?",
    ]
    (call,) = llm.calls
    assert "5 different ways" in call["messages"][0]["content"]
    assert QUESTION in call["messages"][1]["content"]
    assert call["temperature"] == 0.0


def test_rephrasings_caps_at_n_and_passes_max_tokens():
    llm = FakeLLM(JUNK)
    assert rephrasings(llm, QUESTION, 2, "en", max_tokens=17) == [
        "Who created Apple?",
        "Who started Apple Inc.?",
    ]
    assert llm.calls[0]["max_tokens"] == 17


@pytest.mark.parametrize("reply", ["", "\n\n  \n", "Sure:\n" + "y" * 400, QUESTION.upper()])
def test_rephrasings_junk_gives_nothing(reply: str):
    assert rephrasings(FakeLLM(reply), QUESTION, 3, "en") == []


def test_rephrasings_drop_echoes_of_the_prompt_and_pieces_of_the_question():
    reply = (
        "You rewrite search questions.\nfounded Apple\nWrite 3 rephrasings, one per line."
        "\nWho established Apple?\nWho"
    )
    assert rephrasings(FakeLLM(reply), QUESTION, 3, "en") == ["Who established Apple?"]


def test_rephrasings_zero_does_not_call_the_llm():
    llm = FakeLLM("Who created Apple?")
    assert rephrasings(llm, QUESTION, 0, "en") == []
    assert llm.calls == []


def test_rephrasings_chinese():
    llm = FakeLLM(
        "以下是改写：\n你负责改写检索问题。\n1、苹果公司的创始人是谁？\n"
        "2. 「谁创办了苹果公司？」\n苹果公司是谁创立的"
    )
    out = rephrasings(llm, "苹果公司是谁创立的？", 3, "zh")
    assert out == ["苹果公司的创始人是谁？", "谁创办了苹果公司？"]
    system, user = llm.calls[0]["messages"]
    assert "3 种不同的说法" in system["content"]
    assert user["content"].startswith("问题：苹果公司是谁创立的？")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('Query: "Apple Inc. founder"\nmore text', "Apple Inc. founder"),
        ("Here is the rewritten query:\n\n  Apple founders 1976  ", "Apple founders 1976"),
        ("", QUESTION),
        ("\n \n", QUESTION),
        ("z" * (MAX_QUERY_CHARS + 1), QUESTION),
        ("查询：苹果公司 创始人", "苹果公司 创始人"),
        ("Reply with the query only.\nApple founder", "Apple founder"),
    ],
)
def test_rewrite_query_parses_or_falls_back(reply: str, expected: str):
    llm = FakeLLM(reply)
    assert rewrite_query(llm, QUESTION, "en") == expected
    assert llm.calls[0]["messages"][1]["content"] == f"Question: {QUESTION}"


def test_rewrite_query_chinese_prompt():
    llm = FakeLLM("苹果公司 创始人")
    assert rewrite_query(llm, "苹果是谁创立的", "zh") == "苹果公司 创始人"
    assert "检索查询" in llm.calls[0]["messages"][0]["content"]


def test_multi_query_fuse_is_rrf_over_queries_keeping_retriever_sources():
    q0 = [Hit("a", 0.9, "dense"), Hit("b", 0.8, "dense+keyword")]
    q1 = [Hit("b", 0.7, "graph"), Hit("c", 0.6, "dense")]
    fused = multi_query_fuse([q0, q1], rrf_k=1)
    assert [r.chunk_id for r in fused] == ["b", "a", "c"]
    assert [r.score for r in fused] == pytest.approx([1 / 3 + 1 / 2, 1 / 2, 1 / 3])
    assert [r.source for r in fused] == ["dense+keyword+graph", "dense", "dense"]
    reference = reciprocal_rank_fusion({"x": q0, "y": q1}, k=1)
    assert [(r.chunk_id, r.score) for r in fused] == [(r.chunk_id, r.score) for r in reference]
    assert multi_query_fuse([]) == []


# ---------------------------------------------------------------- real tiny GGUF


@pytest.fixture(scope="module")
def tiny_llm() -> Iterator[LocalLlama]:
    llm = open_llama(str(default_model_path()), n_ctx=2048)
    yield llm
    # Free it now: left to interpreter shutdown, llama-cpp-python's finaliser fails noisily.
    llm.close()


@pytest.mark.parametrize(
    ("question", "lang"),
    [("Which river flows through the capital of Hungary?", "en"), ("匈牙利首都有哪条河流？", "zh")],
)
def test_rephrasings_with_the_tiny_model(tiny_llm: LocalLlama, question: str, lang: Any):
    out = rephrasings(tiny_llm, question, 3, lang, max_tokens=32)
    assert len(out) <= 3
    keys = [q.casefold() for q in out]
    assert question.casefold() not in keys
    assert len(set(keys)) == len(keys)
    assert all(q.strip() and "\n" not in q and len(q) <= MAX_QUERY_CHARS for q in out)


def test_rewrite_query_with_the_tiny_model(tiny_llm: LocalLlama):
    question = "which river flows through the capital of hungary"
    out = rewrite_query(tiny_llm, question, "en", max_tokens=24)
    assert out.strip() == out
    assert out and "\n" not in out and len(out) <= MAX_QUERY_CHARS
