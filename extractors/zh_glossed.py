"""Chinese terms defined with an English gloss: 知识图谱（Knowledge Graph）, 大语言模型（LLM）.

A technical text names its terms this way at first use, and jieba, which knows neither
the term nor its parts as names, cuts it into common words (知识/v 图谱/n). The gloss
says where the term starts: it has about as many Chinese words as the gloss has English
words (or capitals, for an acronym), counted back from the bracket over content words.
"""

from __future__ import annotations

import re

from kgrag.core.text import HAN_CHAR
from kgrag.extractors.zh_tokens import Word

MAX_CHARS = 10
_GLOSS = re.compile(r"[（(][ \t]*([A-Za-z][^（）()\n]{0,80}?)[ \t]*[）)]")
_ALTERNATIVES = re.compile(r"[ \t]*[,，;；/、][ \t]*")
# Function words (的, 在, 和, 我们, 一种, ...) and punctuation end a term.
_STOP_FLAGS = ("u", "p", "c", "r", "d", "m", "q", "x", "e", "y", "o", "t", "f", "eng")


def glossed_terms(text: str, words: list[Word]) -> list[tuple[int, int]]:
    """Spans of the Chinese terms of `text` that an English gloss in brackets follows."""
    before = {w.end: k for k, w in enumerate(words)}
    spans: list[tuple[int, int]] = []
    for match in _GLOSS.finditer(text):
        at = match.start()
        k = before.get(at)
        n = _gloss_words(match.group(1))
        if k is None or not n or not HAN_CHAR.match(text, at - 1):
            continue
        start = _term_start(words, k, n)
        if start is not None and 2 <= at - start <= MAX_CHARS:
            spans.append((start, at))
    return spans


def _gloss_words(gloss: str) -> int:
    """English words in the gloss's first form (capitals of an acronym); 0 if it is not
    a name: without a capital it glosses a phrase ("cosine similarity") or is an address
    ("www.thepaper.cn")."""
    first = _ALTERNATIVES.split(gloss, maxsplit=1)[0]
    if not any(ch.isupper() for ch in first):
        return 0
    tokens = [t for t in re.split(r"[ \t-]+", first) if t]
    if len(tokens) == 1 and sum(ch.isupper() for ch in first) > 1:
        return sum(ch.isupper() for ch in first)
    return len(tokens)


def _term_start(words: list[Word], last: int, n: int) -> int | None:
    """Start of the run of up to `n` content words ending with words[last]; a one-
    character word at the end is a suffix (相似/度) and not counted."""
    start = None
    counted = 0
    for k in range(last, -1, -1):
        word = words[k]
        if word.flag.startswith(_STOP_FLAGS) or (k < last and word.end != words[k + 1].start):
            break
        start = word.start
        counted += 0 if k == last and len(word.text) == 1 else 1
        if counted >= n:
            break
    return start
