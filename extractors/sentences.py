"""Rule-based sentence spans for English and Chinese (no model, so it is fast and stable)."""

from __future__ import annotations

import re

from kgrag.core.text import HAN_CHAR
from kgrag.core.types import Lang

_ABBREVIATIONS = frozenset(
    (
        "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp",
        "no", "fig", "figs", "vol", "ed", "eds", "rev", "hon", "gen", "col", "lt", "sgt", "capt",
        "cmdr", "adm", "gov", "pres", "sen", "rep", "mt", "ft", "jan", "feb", "mar", "apr", "jun",
        "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "est", "dept", "univ", "assn",
        "bros", "cf", "al", "e.g", "i.e", "u.s", "u.k", "u.n", "a.m", "p.m", "ph.d", "b.a", "m.a",
        "d.c",
    )
)
_CLOSERS = "\"'”’」』）)]】》"
# A run of terminators, trailing closing quotes/brackets. CJK terminators end a sentence
# wherever they are; ASCII ones only before whitespace (so 3.5 and example.com survive).
_CJK_END = re.compile(rf"(?:[。！？；]|…+|\.{{3,}})[{re.escape(_CLOSERS)}]*")
# The lookbehind starts a match only at the first mark of a run: a later start in the same
# run can only reach the same ends, and retrying every one made a run of n marks O(n²).
_EN_END = re.compile(rf"(?<![.!?])[.!?]+[{re.escape(_CLOSERS)}]*(?=\s)")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")
# How far back `_WORD_BEFORE` looks: longer than any abbreviation, so a longer word is
# never one; scanning back to the block start instead made splitting O(n²).
_WORD_WINDOW = 32
_NON_SPACE = re.compile(r"\S")
_TERMINAL = "。！？；….!?:：" + _CLOSERS


def split_sentences(text: str, lang: Lang) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, whitespace trimmed, in order.

    Blank lines always end a sentence. A single newline ends one too, except where it
    looks like a hard-wrapped line (the line does not end in punctuation and the next one
    continues it: a lowercase word in English, more Han characters in Chinese).
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text, lang):
        spans.extend(_split_block(text, block_start, block_end))
    return spans


def _blocks(text: str, lang: Lang) -> list[tuple[int, int]]:
    """Spans between hard breaks: blank lines, and single newlines that are not wraps."""
    blocks: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"\n", text):
        nl = match.start()
        if _is_wrap(text, start, nl, lang) and not _PARAGRAPH_BREAK.match(text, nl):
            continue
        blocks.append((start, nl))
        start = nl + 1
    blocks.append((start, len(text)))
    return blocks


def _is_wrap(text: str, block_start: int, nl: int, lang: Lang) -> bool:
    line_start = text.rfind("\n", block_start, nl) + 1
    line = text[max(line_start, block_start) : nl].rstrip()
    following = text[nl + 1 : nl + 2]
    if not line or not following or line[-1] in _TERMINAL:
        return False
    if lang == "zh":
        return len(line) >= 15 and HAN_CHAR.match(following) is not None
    return len(line) >= 30 and following.islower()


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts: set[int] = set()
    for match in _CJK_END.finditer(text, start, end):
        cuts.add(match.end())
    for match in _EN_END.finditer(text, start, end):
        if _ends_sentence(text, start, match.start(), match.end(), end):
            cuts.add(match.end())
    spans: list[tuple[int, int]] = []
    prev = start
    for cut in [*sorted(cuts), end]:
        span = _trim(text, prev, cut)
        if span:
            spans.append(span)
        prev = cut
    return spans


def _ends_sentence(text: str, block_start: int, mark: int, after: int, end: int) -> bool:
    """Whether the ASCII terminator at text[mark:after] ends an English sentence."""
    following = _NON_SPACE.search(text, after, end)  # not a copy of the rest of the block
    if following is None:
        return True
    if following.group().islower():
        return False
    if text[mark] != ".":
        return True
    before = _WORD_BEFORE.search(text, max(block_start, mark - _WORD_WINDOW), mark + 1)
    if before is None:
        return True
    word = before.group(1)
    if len(word) == 1 and word.isupper():  # an initial: "G. Stanley Hall"
        return False
    return word.casefold() not in _ABBREVIATIONS


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
