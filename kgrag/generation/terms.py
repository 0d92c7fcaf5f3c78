"""Question terms, for matching a question with text without a model: the evidence
sentences' scores and the share of a question the retrieved passages cover."""

from __future__ import annotations

import re

from kgrag.core.text import HAN, HAN_RUN
from kgrag.core.types import Hit

_WORD = re.compile(rf"[^\W{HAN}]+")
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        """a an the and or but of in on at to for from by with as is are was were be been
        being do does did has have had it its this that these those which who whom whose
        what when where why how there their they them he his she her we our you your i not
        no yes than then so if into about also other any all one can could would should
        will may might must shall""",
    )
)
# Question words and particles: in every question, in few answers.
_ZH_STOP = frozenset(
    re.findall(
        r"\w+",
        "什么 为什 哪些 哪里 哪个 哪一 多少 怎么 如何 是否 是什 么时 时候 的是 了什 有哪 "
        "在哪 是哪 叫什 指的 什麼",
    )
)


def terms(text: str) -> set[str]:
    """Content words of English (lowercased, a plural's "s" dropped, stopwords out) and
    the character pairs of each Chinese run (single characters alone)."""
    found: set[str] = set()
    for word in _WORD.findall(text.casefold()):
        if word not in _STOPWORDS:
            found.add(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    for run in HAN_RUN.findall(text):
        pairs = {run[i : i + 2] for i in range(len(run) - 1)} if len(run) > 1 else {run}
        found |= pairs - _ZH_STOP
    return found


def term_coverage(question: str, sources: list[Hit]) -> float:
    """Share of the question's terms found in the sources' text or titles (1.0 for a
    question without any: nothing of it is missing)."""
    wanted = terms(question)
    if not wanted:
        return 1.0
    found = set().union(*(terms(f"{hit.title}\n{hit.text}") for hit in sources))
    return len(wanted & found) / len(wanted)
