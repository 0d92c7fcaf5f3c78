"""Chinese words with part-of-speech tags (jieba), with character offsets.

One segmentation per text feeds the jieba entity fallback, Chinese keyphrases and the
POS-pattern triples, so nothing segments the same text twice.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from kgrag.core.text import HAN

if TYPE_CHECKING:
    from jieba.posseg import POSTokenizer


class Word(NamedTuple):
    text: str
    flag: str  # jieba (ICTCLAS) tag: n, v, nr (person), ns (place), nt (organisation), ...
    start: int
    end: int


@lru_cache(maxsize=4)
def jieba_tokenizer(user_dict: str | None = None) -> POSTokenizer:
    """jieba's shared tokenizer, or a private one with `user_dict` loaded (lines of
    "word [freq] [tag]", e.g. "深度求索 10 nt"), so a user dictionary never changes the
    segmentation other callers in the process get."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    if user_dict is None:
        tokenizer = jieba.posseg.dt
    else:
        tokenizer = jieba.posseg.POSTokenizer(jieba.Tokenizer())
        tokenizer.tokenizer.load_userdict(user_dict)
    tokenizer.tokenizer.check_initialized()  # load the dictionary now, not on first use
    return tokenizer


def in_dictionary(text: str) -> bool:
    """Whether `text` is a word of jieba's main dictionary."""
    return bool(jieba_tokenizer(None).tokenizer.FREQ.get(text))


def pos_words(text: str, tokenizer: POSTokenizer) -> list[Word]:
    """Words of `text` with tags and offsets; whitespace tokens are dropped, and the
    pieces jieba cuts a Latin-script term into are one word again (tag "eng")."""
    words: list[Word] = []
    pos = 0
    for pair in tokenizer.cut(text):
        start = text.find(pair.word, pos)
        if start < 0:  # jieba returns the text piece by piece; this is a safety net
            continue
        pos = start + len(pair.word)
        if pair.word.strip():
            words.append(Word(pair.word, pair.flag, start, pos))
    return _join_latin_terms(text, words)


# A Latin-script term inside Chinese text, which jieba cuts at every . - + and space:
# letters and digits joined by . - _ + (llama.cpp, Self-RAG, GPT-4, C++), then up to three
# capitalised or numbered words after single spaces ("RAG Fusion", "Llama 2"). A number
# right before a Han character is not part of it ("RAG 2023年").
_WORD = r"[A-Za-z][A-Za-z0-9]*(?:[.\-_+][A-Za-z0-9]+)*(?:\+\+|#)?"
_NEXT = rf" (?:[A-Z][A-Za-z0-9]*(?:[.\-_+][A-Za-z0-9]+)*|\d+(?:\.\d+)?(?![\d.{HAN}]))"
LATIN_TERM = re.compile(rf"(?<![A-Za-z0-9]){_WORD}(?:{_NEXT}){{0,3}}")


def latin_name(text: str) -> bool:
    """Whether a Latin-script term in Chinese text names something: it has a capital
    (RAG, vLLM), a digit (gpt-4o) or a joining . + # (llama.cpp, C++); a lowercase word
    (token, embedding) does not."""
    return len(text) >= 2 and any(ch.isupper() or ch.isdigit() or ch in ".+#" for ch in text)


def _join_latin_terms(text: str, words: list[Word]) -> list[Word]:
    """`words` with the pieces of each Latin-script term of `text` joined into one word."""
    joined: list[Word] = []
    i = 0
    for term in LATIN_TERM.finditer(text):
        while i < len(words) and words[i].end <= term.start():
            joined.append(words[i])
            i += 1
        j = i
        while j < len(words) and words[j].end <= term.end():
            j += 1
        pieces = words[i:j]
        if len(pieces) > 1 and pieces[0].start == term.start() and pieces[-1].end == term.end():
            joined.append(Word(term.group(), "eng", term.start(), term.end()))
            i = j
    joined.extend(words[i:])
    return joined


def merge_titles(text: str, words: list[Word]) -> list[Word]:
    """Words between 《 and 》 become one title word (tag nw, "work") without the brackets."""
    merged: list[Word] = []
    i = 0
    while i < len(words):
        if words[i].text == "《":
            close = next((j for j in range(i + 1, len(words)) if words[j].text == "》"), None)
            if close is not None and close > i + 1:
                start, end = words[i + 1].start, words[close - 1].end
                merged.append(Word(text[start:end], "nw", start, end))
                i = close + 1
                continue
        merged.append(words[i])
        i += 1
    return merged
