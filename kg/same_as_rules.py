"""Which name-vector matches may become SAME_AS edges: a cosine above the threshold is
evidence only where the embedder read both names.

- An embedder that does not read Chinese maps Han names to nearly one vector (measured:
  令牌, 深度, 张量, 腾讯, 曼哈顿 and 达摩院 in one cluster at cosine 1.0; 阿联酋 and
  阿迪达斯 at 0.994), so a name with Han characters gets no SAME_AS edge from it.
- The same happens with any script an embedder has no words for. That is caught without
  knowing the script: a name whose vector is near-identical to those of several other
  names is unreadable to the embedder (two different names that are truly one thing do
  not give one vector; three or more never do).
- Chinese names that differ in a character are usually different things (阿联酋 /
  阿迪达斯, 蕲州 / 衢州), while an abbreviation keeps its characters in order (北大 /
  北京大学, 阿联酋 / 阿拉伯联合酋长国). So two names with Han characters are linked
  only when the shorter one's letters and characters are a subsequence of the longer's.
- Two different acronyms are two things (SH / SZ, CT / TCT), however close their
  vectors: an embedder has little to read in two or three capitals.
- A Chinese name is head-final: characters put before a name qualify it (湖北蕲春 is
  蕲春), characters after it name something else (上海体育场 is not 上海, 北京市委 not
  北京), unless they are only an administrative designation (湖北省 is 湖北).
- Two Latin-script names that each have a word the other lacks name two things (Marie
  Curie / Pierre Curie, Nobel Prize in Physics / in Chemistry, 1998 / 2002 World Cup),
  however close their vectors, unless the words pair up as a spelling variant
  (Tchaikovsky / Tchaikovski), an initial or a short form (J. K. Rowling / Joanne K.
  Rowling, U.S. Navy / United States Navy) or an acronym of the other's words. Nor is a
  name the same thing as a longer one that holds it only after a preposition: that one
  is about it (University of Paris / Paris, Battle of Hastings / Hastings), unless what
  comes before the preposition only designates it (the Republic of Ireland, the Village
  of Schaumburg).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from difflib import SequenceMatcher

from kgrag.core.text import HAN_CHAR

# Designations a place name may carry or drop (湖北 / 湖北省).
ADMINISTRATIVE = frozenset(
    ("省", "市", "县", "区", "镇", "乡", "村", "自治区", "自治州", "自治县", "特别行政区", "地区")
)
_ACRONYM = re.compile(r"[A-Z][A-Z0-9&.]{1,7}")
COLLAPSED = 0.995  # cosine at which two different names have one vector
COLLAPSED_NEIGHBOURS = 2  # near-identical neighbours that mark a vector as unreadable
SPELLING_VARIANT = 0.8  # SequenceMatcher ratio at which two words are one word spelt twice
_WORD = re.compile(r"[^\W_]+")
_PREPOSITIONS = frozenset(("of", "for", "in", "on", "at", "de", "du", "von", "van"))
_FILLERS = _PREPOSITIONS | {"and", "the", "la", "le"}
_DESIGNATIONS = frozenset(
    (
        "city",
        "town",
        "village",
        "borough",
        "county",
        "state",
        "province",
        "republic",
        "kingdom",
        "commonwealth",
        "municipality",
        "island",
        "isle",
        "age",
        "era",
    )
)


def has_han(name: str) -> bool:
    return HAN_CHAR.search(name) is not None


def unreadable(matches: Iterable[tuple[str, float]], key: str) -> bool:
    """Whether the vector of entity `key` is one the embedder gives many names: it has
    at least COLLAPSED_NEIGHBOURS other names at cosine COLLAPSED or more."""
    same = sum(1 for other, score in matches if other != key and score >= COLLAPSED)
    return same >= COLLAPSED_NEIGHBOURS


def same_as_allowed(a: str, b: str, *, reads_han: bool) -> bool:
    """Whether names `a` and `b`, close in the embedder's space, may be one thing."""
    if _ACRONYM.fullmatch(a) and _ACRONYM.fullmatch(b):
        return _letters(a) == _letters(b)
    if not (has_han(a) or has_han(b)):
        return not _differ_in_a_word(a, b)
    if not reads_han:
        return False
    if has_han(a) and has_han(b):
        short, long = sorted((_letters(a), _letters(b)), key=len)
        at = long.find(short)
        if at < 0:
            return _is_subsequence(short, long)
        return long.endswith(short) or long[at + len(short) :] in ADMINISTRATIVE
    return True


def _letters(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _is_subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)


def _differ_in_a_word(a: str, b: str) -> bool:
    """Whether each name keeps a word of its own once the words that pair up as the same
    word (spelt alike, or one an initial or short form of the other) are set aside, and
    neither side's own words are an acronym of the other's."""
    words_a, words_b = _words(a), _words(b)
    if _complement_of(words_a, words_b) or _complement_of(words_b, words_a):
        return True
    only_a, only_b = _own_words(words_a, words_b), _own_words(words_b, words_a)
    for word in list(only_a):
        twin = next((other for other in only_b if _same_word(word, other)), None)
        if twin is not None:
            only_a.remove(word)
            only_b.remove(twin)
    if not only_a or not only_b:
        return False
    return not (_acronym_of(only_a, only_b) or _acronym_of(only_b, only_a))


def _complement_of(short: list[str], long: list[str]) -> bool:
    """Whether `long` holds all of `short` only after a preposition it adds to a head of
    its own (University of Paris holds Paris so; Nobel Prize in Physics holds Nobel
    Prize before its preposition)."""
    for at, word in enumerate(long):
        if word in _PREPOSITIONS and word not in short and at > 0:
            head = [w for w in long[:at] if w not in _FILLERS]
            if all(w in _DESIGNATIONS for w in head):
                return False
            return set(short) <= set(long[at + 1 :]) and not set(short) & set(long[:at])
    return False


def _words(name: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", name).casefold())


def _own_words(words: list[str], other: list[str]) -> list[str]:
    return [w for w in words if w not in other]


def _same_word(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    if long.startswith(short) and (len(short) == 1 or len(short) >= 3):
        return True  # an initial (J / Joanne) or a short form (Univ / University)
    return SequenceMatcher(None, a, b).ratio() >= SPELLING_VARIANT


def _acronym_of(short: list[str], long: list[str]) -> bool:
    letters = "".join(short)
    content = [w for w in long if w not in _FILLERS]
    return letters in ("".join(w[0] for w in long), "".join(w[0] for w in content))
