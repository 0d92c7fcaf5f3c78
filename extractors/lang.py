"""Language of a text (Chinese vs English) and of each paragraph of a mixed document."""

from __future__ import annotations

import re

from kgrag.core.text import HAN_CHAR
from kgrag.core.types import Lang

_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_LINE = re.compile(r"[^\n]+")

# One Han character carries about as much as one English word, so the share compares
# characters with words; below this share a few quoted Chinese names stay "en".
ZH_SHARE = 0.4


def cjk_share(text: str) -> float:
    """Han characters / (Han characters + Latin words); 0.0 for text with neither."""
    n_cjk = len(HAN_CHAR.findall(text))
    n_words = len(_LATIN_WORD.findall(text))
    total = n_cjk + n_words
    return n_cjk / total if total else 0.0


def detect_lang(text: str) -> Lang:
    """"zh" when the CJK share reaches ZH_SHARE, else "en" (also for empty text)."""
    return "zh" if cjk_share(text) >= ZH_SHARE else "en"


def split_paragraphs_by_lang(text: str) -> list[tuple[tuple[int, int], Lang]]:
    """Spans of same-language runs of lines, so each part of a mixed document can be
    routed to its own tools. Adjacent lines of one language are merged into one span;
    blank lines and lines without letters join the run around them."""
    runs: list[tuple[tuple[int, int], Lang]] = []
    for match in _LINE.finditer(text):
        line = match.group()
        if not line.strip():
            continue
        start = match.start() + (len(line) - len(line.lstrip()))
        end = match.start() + len(line.rstrip())
        if cjk_share(line) == 0.0 and not _LATIN_WORD.search(line):
            lang: Lang = runs[-1][1] if runs else "en"
        else:
            lang = detect_lang(line)
        if runs and runs[-1][1] == lang:
            runs[-1] = ((runs[-1][0][0], end), lang)
        else:
            runs.append(((start, end), lang))
    return runs
