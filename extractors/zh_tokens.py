"""Chinese words with part-of-speech tags (jieba), with character offsets.

One segmentation per text feeds the jieba entity fallback, Chinese keyphrases and the
POS-pattern triples, so nothing segments the same text twice.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

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


def pos_words(text: str, tokenizer: POSTokenizer) -> list[Word]:
    """Words of `text` with tags and offsets; whitespace tokens are dropped."""
    words: list[Word] = []
    pos = 0
    for pair in tokenizer.cut(text):
        start = text.find(pair.word, pos)
        if start < 0:  # jieba returns the text piece by piece; this is a safety net
            continue
        pos = start + len(pair.word)
        if pair.word.strip():
            words.append(Word(pair.word, pair.flag, start, pos))
    return words


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
