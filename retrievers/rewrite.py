"""Optional LLM query rewriting and multi-query retrieval (RAG-Fusion).

`rephrasings` asks the LLM for alternative phrasings of a question; each is retrieved
separately and `multi_query_fuse` merges the per-query rankings with reciprocal rank
fusion. `rewrite_query` turns a question into one clearer search query. Small models
often ignore the requested format, so the output is parsed defensively: anything that
is not a usable query line is dropped, and the original question is the fallback.
"""

from __future__ import annotations

import re
from dataclasses import replace

from kgrag.core.types import Hit, Lang
from kgrag.generation.chat_model import ChatModel
from kgrag.retrievers.fuse import reciprocal_rank_fusion

MAX_QUERY_CHARS = 300

REPHRASE_SYSTEM = {
    "en": (
        "You rewrite search questions. Given a question, write {n} different ways to ask "
        "the same question, one per line, with no numbering and no other text."
    ),
    "zh": (
        "你负责改写检索问题。给定一个问题，请用 {n} 种不同的说法表达同一个问题，"
        "每行一个，不要编号，也不要其他内容。"
    ),
}
REPHRASE_USER = {
    "en": "Question: {question}\nWrite {n} rephrasings, one per line.",
    "zh": "问题：{question}\n请写出 {n} 种改写，每行一个。",
}
REWRITE_SYSTEM = {
    "en": (
        "Rewrite the user's question as one clear, self-contained search query. "
        "Reply with the query only."
    ),
    "zh": "请把用户的问题改写成一个清晰、完整的检索查询。只回复查询本身。",
}
REWRITE_USER = {"en": "Question: {question}", "zh": "问题：{question}"}

# "1." "2)" "(3)" "4、" "- " "* " "• " at the start of a line (but not "3.5 million").
_LIST_MARK = re.compile(r"^\s*(?:\(?\d{1,2}[.)、:：](?!\d)|[-*•·](?=\s))\s*")
# A label the model put before the query: "Query:", "Rephrased question:", "问题：".
_LABEL = re.compile(
    r"^(?:(?:rephrased|rewritten|alternative|search)\s+)?(?:query|question)\s*[:：]\s*"
    r"|^(?:改写后的)?(?:查询|问题|改写)\s*[:：]\s*",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’「」『』`"
_TRAILING = "?？.。!！ "


def _clean_line(line: str) -> str:
    """The query in one output line, or "" when the line is not a query (blank, a header
    such as "Here are three rephrasings:", or longer than MAX_QUERY_CHARS)."""
    text = _LIST_MARK.sub("", line.strip(), count=1)
    text = _LABEL.sub("", text, count=1)
    text = " ".join(text.strip(_QUOTES + " *").split())
    if not text or text.endswith((":", "：")) or len(text) > MAX_QUERY_CHARS:
        return ""
    return text


def _key(text: str) -> str:
    """Comparison key: case, spacing and final punctuation do not make a new query."""
    return " ".join(text.casefold().split()).rstrip(_TRAILING)


def _queries(output: str, echoes: list[str]) -> list[str]:
    """Distinct cleaned query lines of `output`, in order. A line found inside one of
    `echoes` (the prompt, or the question for rephrasings) is the model repeating its
    input, not a new query, so it is dropped."""
    avoid = [_key(text) for text in echoes]
    seen: set[str] = set()
    found: list[str] = []
    for line in output.splitlines():
        text = _clean_line(line)
        key = _key(text)
        if text and key not in seen and not any(key in a for a in avoid):
            seen.add(key)
            found.append(text)
    return found


def rephrasings(
    llm: ChatModel,
    question: str,
    n: int,
    lang: Lang,
    *,
    max_tokens: int | None = None,
    temperature: float = 0.0,
) -> list[str]:
    """Up to n alternative phrasings of the question (possibly fewer, possibly none), never
    the question itself or a piece of it. Temperature 0 by default so the same question
    always retrieves the same passages."""
    if n < 1:
        return []
    system = REPHRASE_SYSTEM[lang].format(n=n)
    user = REPHRASE_USER[lang].format(question=question, n=n)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    output = llm.chat(messages, max_tokens=max_tokens or 48 * n, temperature=temperature)
    return _queries(output, [question, system, user])[:n]


def rewrite_query(
    llm: ChatModel,
    question: str,
    lang: Lang,
    *,
    max_tokens: int = 64,
    temperature: float = 0.0,
) -> str:
    """One clearer search query for the question: the first usable line of the reply, or
    the question itself when there is none."""
    system = REWRITE_SYSTEM[lang]
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": REWRITE_USER[lang].format(question=question)},
    ]
    output = llm.chat(messages, max_tokens=max_tokens, temperature=temperature)
    found = _queries(output, [system])
    return found[0] if found else question


def multi_query_fuse(rankings_per_query: list[list[Hit]], rrf_k: int = 60) -> list[Hit]:
    """RRF over the rankings of each query (original question first, by convention).

    The fused `source` lists the retrievers that found the chunk for any query (e.g.
    "dense+graph"), not the query numbers, so citations keep their provenance.
    """
    fused = reciprocal_rank_fusion(
        {f"q{i}": ranked for i, ranked in enumerate(rankings_per_query)}, k=rrf_k
    )
    found_by: dict[str, list[str]] = {}
    for ranked in rankings_per_query:
        for item in ranked:
            names = found_by.setdefault(item.chunk_id, [])
            for name in item.source.split("+"):
                if name and name not in names:
                    names.append(name)
    return [replace(r, source="+".join(found_by[r.chunk_id])) for r in fused]
