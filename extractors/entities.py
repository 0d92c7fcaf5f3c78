"""Named entities: spaCy for English; HanLP (local model) or a jieba fallback for Chinese.

Every backend yields EntitySpan offsets relative to the text it was given; the pipeline
shifts them into document offsets. Labels are mapped to one scheme (spaCy's names).
Numeric and date types are left out: as graph nodes they join unrelated documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from kgrag.extractors.hanlp_models import load_hanlp
from kgrag.extractors.sentences import split_sentences
from kgrag.extractors.zh_glossed import glossed_terms
from kgrag.extractors.zh_names import person_shaped, place_shaped, thing_shaped
from kgrag.extractors.zh_tokens import Word, in_dictionary, latin_name, merge_titles

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token


class EntitySpan(NamedTuple):
    start: int
    end: int
    text: str
    label: str


KEEP_LABELS = frozenset(
    (
        "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
        "LANGUAGE", "MISC",
    )
)
_LEADING = re.compile(r"(?:the|The|THE)\s+")
_TRAILING = re.compile(r"(?:['’]s|['’]|[\s,.;:!?-])+$")
_OPENERS = "\"'“‘(《「"
_CLOSERS = {"\"": "\"", "'": "'", "”": "“", "’": "‘", ")": "(", "》": "《", "」": "「"}


def clean_span(text: str, start: int, end: int) -> EntitySpan | None:
    """Trim a leading "the", a trailing possessive, quotes and edge punctuation from
    text[start:end] (the label is filled in by the caller)."""
    previous = None
    while previous != (start, end):
        previous = (start, end)
        lead = _LEADING.match(text, start, end)
        if lead and lead.end() < end:
            start = lead.end()
        trail = _TRAILING.search(text, start, end)
        if trail and trail.start() > start:
            end = trail.start()
        if start < end and text[start] in _OPENERS:
            start += 1
        closer = text[end - 1] if end > start else ""
        if closer in _CLOSERS and _CLOSERS[closer] not in text[start : end - 1]:
            end -= 1  # an unmatched closing quote or bracket
    return EntitySpan(start, end, text[start:end], "") if end > start else None


def spacy_entities(doc: Doc) -> list[EntitySpan]:
    spans: list[EntitySpan] = []
    text = doc.text  # spaCy joins every token to build it: once per doc, not per entity
    for ent in doc.ents:
        if ent.label_ not in KEEP_LABELS:
            continue
        span = clean_span(text, ent.start_char, ent.end_char)
        if span is not None:
            spans.append(span._replace(label=_checked_label(ent.label_, span.text)))
    return spans


_ACRONYM = re.compile(r"(?<![\w.])[A-Z]{2,}(?![\w.])")


def _checked_label(label: str, text: str) -> str:
    """No person is named with an acronym: the small English model calls "RAG" and "RAG
    Fusion" people, more so in the English lines of a Chinese document."""
    return "MISC" if label == "PERSON" and _ACRONYM.search(text) else label


def propn_runs(doc: Doc, taken: Iterable[EntitySpan]) -> list[EntitySpan]:
    """Runs of capitalised words with at least one proper noun that are not already an
    entity, labelled MISC ("the film Polish Wedding" -> "Polish Wedding" besides the
    NORP "Polish"). Used on short questions, where a missed name costs the graph lookup."""
    known = {(span.start, span.end) for span in taken}
    runs: list[EntitySpan] = []
    run: list[Token] = []
    text = doc.text
    for token in [*doc, None]:
        if token is not None and _name_like(token):
            run.append(token)
            continue
        while run and run[0].is_stop:  # "Who", "The" opening a question
            run = run[1:]
        if any(t.pos_ == "PROPN" for t in run):
            span = clean_span(text, run[0].idx, run[-1].idx + len(run[-1].text))
            if span is not None and (span.start, span.end) not in known:
                runs.append(span._replace(label="MISC"))
        run = []
    return runs


def _name_like(token: Token) -> bool:
    return token.pos_ == "PROPN" or (token.is_title and token.is_alpha)


class ZhEntityBackend(Protocol):
    """Chinese NER behind one interface. `words` are the jieba words of each text (the
    pipeline segments once and shares them); a backend may ignore them."""

    name: str

    def recognize(
        self, texts: Sequence[str], words: Sequence[list[Word]]
    ) -> list[list[EntitySpan]]: ...


_JIEBA_LABELS = {"nr": "PERSON", "nrfg": "PERSON", "nrt": "PERSON", "ns": "GPE",
                 "nt": "ORG", "nz": "MISC", "nw": "WORK_OF_ART"}
_PERSON_FLAGS = frozenset(("nr", "nrfg", "nrt"))
_ORG_SUFFIXES = frozenset(
    (
        "大学", "公司", "集团", "银行", "医院", "研究所", "研究院", "学院", "委员会", "政府",
        "协会", "组织", "中心", "出版社", "电视台", "博物馆", "法院", "学校", "中学", "小学",
        "基金会", "实验室", "报社", "俱乐部", "工厂", "事务所", "科学院", "党", "部", "局", "署",
    )
)
_ORG_WORD_SUFFIXES = _ORG_SUFFIXES | {"院", "社"}  # ending one word: 达摩院, 彭博社


class JiebaEntities:
    """Proper-noun tags of jieba (person nr, place ns, organisation nt, other nz) with
    adjacent proper nouns merged where they make one name (`_joins`) and organisation
    suffixes (大学, 公司, ...) absorbed; titles in 《》 are works. A person or place tag
    counts only for a word of a name's shape (`zh_names`: jieba tags 索引 a person, 长度
    a place). Latin-script terms (vLLM, llama.cpp, Self-RAG, GPT-4) and terms defined
    with an English gloss (知识图谱（Knowledge Graph）, `zh_glossed`) are names of things
    (MISC), never people."""

    name = "jieba"

    def recognize(
        self, texts: Sequence[str], words: Sequence[list[Word]]
    ) -> list[list[EntitySpan]]:
        return [self._from_words(text, ws) for text, ws in zip(texts, words, strict=True)]

    def _from_words(self, text: str, words: list[Word]) -> list[EntitySpan]:
        words = merge_titles(text, words)
        spans: list[EntitySpan] = []
        i = 0
        while i < len(words):
            if not _is_proper(words[i]):
                i += 1
                continue
            j = i + 1
            labels = [_label(words[i])]
            while j < len(words) and words[j].start == words[j - 1].end:
                if _joins(words[i], labels[-1], words[j]):
                    labels.append(_label(words[j]))
                elif words[j].text in _ORG_SUFFIXES:
                    labels.append("ORG")
                else:
                    break
                j += 1
            start, end = words[i].start, words[j - 1].end
            if end - start >= 2 or labels == ["WORK_OF_ART"]:
                spans.append(EntitySpan(start, end, text[start:end], _merged_label(labels)))
            i = j
        for start, end in glossed_terms(text, words):
            if all(end <= s.start or s.end <= start for s in spans):
                spans.append(EntitySpan(start, end, text[start:end], "MISC"))
        return sorted(spans)


def _joins(first: Word, label: str, word: Word) -> bool:
    """Whether proper noun `word` continues a name of `label` that began with `first`:
    an organisation after a name (中国/ns 人民银行/nt), or a name of the same kind and
    script (湖北/ns 蕲春县/ns). Two people side by side are two people, and a name after
    a name of another kind is another name (中新网/nz 南京/ns, a dateline)."""
    if not _is_proper(word) or _latin(word) != _latin(first):
        return False
    new = _label(word)
    return new == "ORG" or (new == label and label != "PERSON")


def _is_proper(word: Word) -> bool:
    if _latin(word):
        return latin_name(word.text)
    if _org_named(word):
        return True
    if word.flag in _PERSON_FLAGS:
        return person_shaped(word.text) or thing_shaped(word.text, in_dictionary)
    if word.flag == "ns":
        return place_shaped(word.text)
    return word.flag in _JIEBA_LABELS


def _latin(word: Word) -> bool:
    return word.flag == "eng"


def _org_named(word: Word) -> bool:
    """A name-tagged word ending in an organisation suffix names one (达摩院/nr)."""
    text = word.text
    return word.flag in _JIEBA_LABELS and any(
        text.endswith(suffix) and len(text) > len(suffix) for suffix in _ORG_WORD_SUFFIXES
    )


def _label(word: Word) -> str:
    if _org_named(word):
        return "ORG"
    if word.flag in _PERSON_FLAGS and not person_shaped(word.text):
        return "MISC"  # a thing_shaped word
    return _JIEBA_LABELS.get(word.flag, "MISC")


def _merged_label(labels: list[str]) -> str:
    if labels[-1] == "ORG":
        return "ORG"
    if all(label == "PERSON" for label in labels):
        return "PERSON"
    return labels[-1]


_HANLP_LABELS = {
    "NR": "PERSON", "PER": "PERSON", "PERSON": "PERSON", "NS": "GPE", "GPE": "GPE",
    "LOC": "LOC", "LOCATION": "LOC", "NT": "ORG", "ORG": "ORG", "ORGANIZATION": "ORG",
}


class HanlpEntities:
    """A local HanLP NER model; with `tok` (a HanLP tokenizer, e.g. a BMES tagger) the
    NER reads words, otherwise characters. Texts are fed sentence by sentence so a
    transformer model never sees more than its window."""

    def __init__(self, ner: str, tok: str | None = None) -> None:
        self._ner, ner_dir = load_hanlp(ner)
        self._tok: Any = None
        self.name = f"hanlp:{ner_dir.name}"
        if tok is not None:
            self._tok, tok_dir = load_hanlp(tok)
            self.name += f"+tok:{tok_dir.name}"

    def recognize(
        self, texts: Sequence[str], words: Sequence[list[Word]] = ()
    ) -> list[list[EntitySpan]]:
        pieces: list[tuple[int, int, int]] = []  # (text index, sentence start, end)
        for n, text in enumerate(texts):
            pieces.extend((n, a, b) for a, b in split_sentences(text, "zh"))
        tokens = self._tokens([texts[n][a:b] for n, a, b in pieces])
        found: list[list[EntitySpan]] = [[] for _ in texts]
        if not pieces:
            return found
        outputs = self._ner([toks for toks, _ in tokens])
        for (n, a, _), (_, offsets), output in zip(pieces, tokens, outputs, strict=True):
            for _text, label, first, last in output:
                mapped = _HANLP_LABELS.get(str(label).upper(), str(label).upper())
                if mapped not in KEEP_LABELS:
                    continue
                start, end = a + offsets[first][0], a + offsets[last - 1][1]
                found[n].append(EntitySpan(start, end, texts[n][start:end], mapped))
        for spans in found:
            spans.sort()
        return found

    def _tokens(self, sentences: list[str]) -> list[tuple[list[str], list[tuple[int, int]]]]:
        """Tokens of each sentence with their character offsets in it."""
        if self._tok is None:
            return [(list(s), [(i, i + 1) for i in range(len(s))]) for s in sentences]
        if not sentences:
            return []
        from hanlp.utils.span_util import bmes_to_words

        result = []
        for sentence, out in zip(sentences, self._tok([list(s) for s in sentences]), strict=True):
            words = (
                bmes_to_words(list(sentence), out)
                if len(out) == len(sentence) and set(out) <= {"B", "M", "E", "S"}
                else [str(w) for w in out]
            )
            offsets, pos = [], 0
            for word in words:
                start = sentence.find(word, pos)
                start = pos if start < 0 else start
                pos = start + len(word)
                offsets.append((start, pos))
            result.append((words, offsets))
        return result
