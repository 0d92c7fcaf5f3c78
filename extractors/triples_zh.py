"""Chinese triples: a POS-pattern fallback over jieba words, and the HanLP SRL path.

The fallback reads "NP V NP" inside a clause (clauses end at ，；。 and the like), with
被 (passive: the subject is ARG1, the NP after 被 is ARG0), 把 (the NP after 把 is ARG1),
negation adverbs, preposition phrases as time/place modifiers, verb + 于/在/到 ("出生于"),
coordinated NPs (A和B) and a subject shared by the verbs of a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from kgrag.extractors.hanlp_models import load_hanlp
from kgrag.extractors.triples_en import Frame
from kgrag.extractors.zh_tokens import Word, merge_titles

_CLAUSE_END = frozenset("，,；;。！？!?：:…")
_HEAD_FLAGS = frozenset(
    {"n", "nr", "nrfg", "nrt", "ns", "nt", "nz", "nw", "nl", "ng", "eng", "j", "vn", "an", "r",
     "t", "f", "s"}
)
_MODIFIER_FLAGS = frozenset({"a", "b", "m", "q", "uj", "mq"})
_COORDINATORS = frozenset({"和", "与", "及", "以及", "、", "跟", "同"})
_NEGATIONS = frozenset({"不", "没", "没有", "未", "并未", "从未", "从不", "未曾", "无", "非", "别",
                        "勿", "不再", "尚未"})
_ASPECT = frozenset({"了", "着", "过"})
_AGENT_MARKERS = frozenset({"被", "由"})  # "A被B收购", "A由B设计": B is the agent
_VERB_PREPS = frozenset({"于", "在", "到", "给", "向", "自", "为", "至", "入", "成"})
_TIME_CHARS = frozenset("年月日号时")
_VERBAL_MEASURES = frozenset("次遍回趟番")
_LOC_PREPS = frozenset({"在", "于", "位于"})
_MAX_CONJUNCTS = 4

Chunk = tuple[int, int]  # word index range [i, j)


@dataclass
class _State:
    subject: list[str] = field(default_factory=list)
    candidate: list[str] = field(default_factory=list)
    agent: list[str] = field(default_factory=list)  # after 被
    patient: list[str] = field(default_factory=list)  # after 把
    passive: bool = False
    negated: bool = False
    args: dict[str, str] = field(default_factory=dict)


def sentence_frames_zh(text: str, words: list[Word]) -> list[Frame]:
    """Frames of one sentence (`words` are its jieba words, offsets into `text`)."""
    frames: list[Frame] = []
    subject: list[str] = []
    for clause in _clauses(merge_titles(text, words)):
        clause_frames, subject = _clause_frames(text, clause, subject)
        frames.extend(clause_frames)
    return frames


def _clauses(words: list[Word]) -> list[list[Word]]:
    clauses: list[list[Word]] = [[]]
    for word in words:
        if word.text in _CLAUSE_END:
            clauses.append([])
        else:
            clauses[-1].append(word)
    return [c for c in clauses if c]


def _is_verb(word: Word) -> bool:
    return word.flag.startswith("v") and word.flag != "vn" and word.text not in _NEGATIONS


def _clause_frames(
    text: str, words: list[Word], carried: list[str]
) -> tuple[list[Frame], list[str]]:
    verbs = _verb_positions(words)
    chunks = _noun_chunks(words, verbs)
    starts = {c[0]: c for c in chunks}
    state = _State(subject=carried)
    frames: list[Frame] = []
    k = 0
    while k < len(words):
        word = words[k]
        if k in starts:
            first = k
            group, k = _group(words, starts, starts[k])
            prev = words[first - 1] if first > 0 else None
            texts = [_text(text, words, c) for c in group]
            if prev is not None and prev.text in _AGENT_MARKERS:
                state.agent = texts
                state.passive = True
            elif prev is not None and prev.text == "把":
                state.patient = texts
            elif prev is not None and prev.flag == "p":
                _modifier(text, words, state, prev.text, group)
            elif _is_time(words, group[0]):
                state.args.setdefault("ARGM-TMP", _join(text, words, group))
            else:
                state.candidate = texts
            continue
        if k in verbs:
            frame, k = _verb_frame(text, words, k, starts, state)
            if frame is not None:
                frames.extend(frame)
            continue
        if word.text in _NEGATIONS and not (k + 1 < len(words) and k + 1 not in verbs
                                            and word.text == "没有"):
            state.negated = True
        elif word.text == "被":
            state.passive = True
        k += 1
    return frames, state.subject


def _verb_positions(words: list[Word]) -> set[int]:
    """Predicates of a clause: words tagged as verbs; failing those, words followed by an
    aspect particle (jieba tags some verbs as nouns: "领导/n 了"); failing those, the last
    verbal noun ("张三在北京大学工作/vn")."""
    verbs = {k for k, w in enumerate(words) if _is_verb(w)}
    if not verbs:
        verbs = {
            k for k in range(len(words) - 1)
            if words[k + 1].text in _ASPECT and words[k].flag not in ("x", "uj", "p")
        }
    if not verbs:
        verbal_nouns = [k for k, w in enumerate(words) if w.flag == "vn"]
        verbs = set(verbal_nouns[-1:])
    return verbs


def _verb_frame(
    text: str, words: list[Word], k: int, starts: dict[int, Chunk], state: _State
) -> tuple[list[Frame] | None, int]:
    start = words[k].start
    k += 1
    while k < len(words) and _is_verb(words[k]) and words[k].start == words[k - 1].end:
        k += 1  # adjacent verbs read as one predicate: 出/生于 -> 出生于
    predicate = text[start : words[k - 1].end]
    while k < len(words) and words[k].text in _ASPECT:
        k += 1
    prep = ""
    if k + 1 < len(words) and words[k].text in _VERB_PREPS and k + 1 in starts:
        prep = words[k].text  # 出生于, 位于, 捐给
        k += 1
    obj: list[str] = []
    if k in starts:
        group, k = _group(words, starts, starts[k])
        if _is_time(words, group[0]):  # 成立于1911年
            state.args.setdefault("ARGM-TMP", prep + _join(text, words, group))
            prep = ""
        else:
            obj = [_text(text, words, c) for c in group]
    predicate += prep
    subject = state.candidate or state.subject
    if state.passive:
        arg0s, arg1s = state.agent, subject
        if obj:
            state.args.setdefault("ARG2", "、".join(obj))
    elif state.patient:
        arg0s, arg1s = subject, state.patient
        if obj:
            state.args.setdefault("ARG2", "、".join(obj))
    else:
        arg0s, arg1s = subject, obj
    frames = None
    if arg0s or arg1s:
        none: list[str | None] = [None]
        pairs = product(arg0s[:_MAX_CONJUNCTS] or none, arg1s[:_MAX_CONJUNCTS] or none)
        frames = [Frame(predicate, a0, a1, dict(state.args), state.negated) for a0, a1 in pairs]
    state.subject = subject
    state.candidate, state.agent, state.patient = [], [], []
    state.passive = state.negated = False
    state.args = {}
    return frames, k


def _modifier(text: str, words: list[Word], state: _State, prep: str, group: list[Chunk]) -> None:
    phrase = _join(text, words, group)
    if _is_time(words, group[0]):
        state.args.setdefault("ARGM-TMP", prep + phrase)
    elif prep in _LOC_PREPS:
        state.args.setdefault("ARGM-LOC", prep + phrase)
    else:
        state.args.setdefault("ARG2", prep + phrase)


def _noun_chunks(words: list[Word], verbs: set[int]) -> list[Chunk]:
    """Maximal runs of modifier/noun words ending in a noun-like head."""
    chunks: list[Chunk] = []
    i = 0
    while i < len(words):
        if i in verbs or not _chunkable(words[i]):
            i += 1
            continue
        j = i + 1
        while j < len(words) and j not in verbs and words[j].flag != "r":  # r: a new phrase
            if not (_chunkable(words[j]) or _after_de(words, j)):
                break
            j += 1
        end = j
        while end > i and not (_is_head(words[end - 1]) or _after_de(words, end - 1)):
            end -= 1
        if end > i:
            chunks.append((i, end))
        i = max(j, i + 1)
    return chunks


def _after_de(words: list[Word], k: int) -> bool:
    """A word right after 的 is a noun whatever jieba tagged it ("中国的首都/d")."""
    return k > 0 and words[k - 1].flag == "uj" and words[k].flag not in ("x", "p")


def _chunkable(word: Word) -> bool:
    if word.flag in ("m", "mq") and word.text[-1:] in _VERBAL_MEASURES:
        return False  # "七次": how often, not a noun modifier
    return _is_head(word) or word.flag in _MODIFIER_FLAGS


def _is_head(word: Word) -> bool:
    return word.flag in _HEAD_FLAGS or (word.flag in ("m", "mq") and word.text[-1] in _TIME_CHARS)


def _group(words: list[Word], starts: dict[int, Chunk], first: Chunk) -> tuple[list[Chunk], int]:
    """A chunk and the chunks coordinated with it (A和B、C), and the index after them."""
    group = [first]
    end = first[1]
    while end + 1 < len(words) and words[end].text in _COORDINATORS and end + 1 in starts:
        group.append(starts[end + 1])
        end = starts[end + 1][1]
    return group, end


def _is_time(words: list[Word], chunk: Chunk) -> bool:
    last = words[chunk[1] - 1]
    return last.flag == "t" or (
        last.text[-1:] in _TIME_CHARS and any(w.flag == "m" for w in words[chunk[0] : chunk[1]])
    )


def _text(text: str, words: list[Word], chunk: Chunk) -> str:
    return text[words[chunk[0]].start : words[chunk[1] - 1].end]


def _join(text: str, words: list[Word], group: list[Chunk]) -> str:
    return text[words[group[0][0]].start : words[group[-1][1] - 1].end]


class HanlpSrl:
    """HanLP semantic role labelling (a local model, e.g. CPB3_SRL_ELECTRA_SMALL copied to
    HANLP_HOME). It reads words; frames come from its (text, label, begin, end) spans."""

    def __init__(self, spec: str) -> None:
        self._srl, folder = load_hanlp(spec)
        self.name = f"hanlp-srl:{folder.name}"

    def frames(self, sentences: Sequence[list[str]]) -> list[list[Frame]]:
        if not sentences:
            return []
        return [frames_from_srl(out) for out in self._srl(list(sentences))]


def frames_from_srl(structures: Any) -> list[Frame]:
    """HanLP SRL output of one sentence (a list of predicate-argument structures, each a
    list of (text, label, begin, end) with one "PRED") to Frames."""
    frames: list[Frame] = []
    for structure in structures:
        roles = {str(label): str(arg) for arg, label, *_ in structure}
        predicate = roles.pop("PRED", None)
        if predicate is None:
            continue
        negated = "ARGM-NEG" in roles
        arg0, arg1 = roles.pop("ARG0", None), roles.pop("ARG1", None)
        if arg0 is None and arg1 is None:
            continue
        frames.append(Frame(predicate, arg0, arg1, roles, negated))
    return frames
