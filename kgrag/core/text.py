"""Character classes and counts every stage agrees on.

`HAN` is the one definition of a Chinese (Han) character: CJK unified ideographs, their
extension A and the compatibility forms. `WIDE` adds the scripts a tokenizer spends about
a token a character on (kana, Hangul, CJK punctuation and full-width forms).
"""

from __future__ import annotations

import math
import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
HAN_CHAR = re.compile(f"[{HAN}]")
HAN_RUN = re.compile(f"[{HAN}]+")
WIDE_CHAR = re.compile(f"[{HAN}\u3000-\u303f\u3040-\u30ff\uac00-\ud7af\uff00-\uffef]")


def count_tokens(text: str) -> int:
    """Approximate LLM token count without loading a tokenizer: one token per wide
    character, and one per four characters (rounded up) of everything else, the usual
    rule of thumb for English BPE vocabularies. Good enough for budgeting, not billing."""
    wide = len(WIDE_CHAR.findall(text))
    return wide + math.ceil((len(text) - wide) / 4)
