"""Keyphrases: KeyBERT over spaCy noun-phrase candidates (English), jieba TF-IDF /
TextRank over the shared segmentation (Chinese).

English candidates are the noun chunks and entities spaCy already found, so KeyBERT
embeds a dozen phrases per chunk instead of every n-gram; document vectors are passed in
(the chunk vectors) and phrase vectors are cached for the process.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from kgrag.core.types import Keyphrase
from kgrag.extractors.normalize import normalize_key
from kgrag.extractors.stopwords_zh import STOPWORDS_ZH
from kgrag.extractors.zh_tokens import Word

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from kgrag.extractors.embed import SentenceEmbedder

_MAX_PHRASE_TOKENS = 4
_NUMERIC_LABELS = frozenset(
    {"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"}
)
_SKIP_POS = frozenset({"DET", "PRON", "PUNCT", "CCONJ", "ADP", "PART", "NUM", "SYM", "SPACE"})


class Candidate(NamedTuple):
    text: str
    start: int  # offsets in the parsed text
    end: int


def noun_phrase_candidates(doc: Doc) -> list[Candidate]:
    """Noun chunks and entity names of a parsed English text, determiners and pronouns
    trimmed, at most four words, without duplicates (the first occurrence wins)."""
    seen: dict[str, Candidate] = {}
    whole = doc.text  # spaCy joins every token to build it: once per doc, not per phrase
    counts = Counter(t.lower_ for t in doc)
    spans = [*doc.noun_chunks, *(e for e in doc.ents if e.label_ not in _NUMERIC_LABELS)]
    for span in spans:
        if "\n" in span.text.strip():
            continue  # a title line run into the text
        tokens = [t for t in span if not t.is_space]
        while tokens and (tokens[0].pos_ in _SKIP_POS or tokens[0].is_stop):
            tokens = tokens[1:]
        while tokens and (tokens[-1].pos_ in _SKIP_POS or tokens[-1].is_stop):
            tokens = tokens[:-1]
        if not tokens or len(tokens) > _MAX_PHRASE_TOKENS:
            continue
        if all(t.like_num or not t.is_alpha or t.ent_type_ in _NUMERIC_LABELS for t in tokens):
            continue  # numbers and dates ("August", "1991") say little about a text
        if len(tokens) == 1 and tokens[0].pos_ == "NOUN" and counts[tokens[0].lower_] < 2:
            continue  # a lone common noun named once is rarely what a text is about
        start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
        text = whole[start:end]
        seen.setdefault(text.lower(), Candidate(text, start, end))
    return list(seen.values())


class EnglishKeyphrases:
    """KeyBERT with the project's own sentence-transformers model and MMR for diversity."""

    def __init__(
        self, embedder: SentenceEmbedder, *, diversity: float = 0.5, cache_size: int = 200_000
    ) -> None:
        from keybert import KeyBERT
        from sklearn.feature_extraction.text import CountVectorizer

        self.embedder = embedder
        self.diversity = diversity
        self._keybert = KeyBERT(model=embedder.model)
        self._analyzer = CountVectorizer(ngram_range=(1, 1)).build_analyzer()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def extract(
        self,
        texts: Sequence[str],
        candidates: Sequence[Sequence[str]],
        doc_vectors: np.ndarray | None,
        top_n: int,
        phrase_vectors: Sequence[Mapping[str, np.ndarray]] | None = None,
    ) -> list[list[Keyphrase]]:
        """Top phrases per text. `candidates[i]` are the surface phrases of text i;
        `doc_vectors` (one unit-length row per text) are computed when None;
        `phrase_vectors[i]` (by surface phrase, e.g. read in context by `TokenVectors`)
        are used for text i where given, other phrases are encoded (and cached).

        Each text is ranked over its own candidates and vectors only, so a text's
        keyphrases never depend on which other texts share its batch: re-running an
        ingestion in other batches writes the same graph."""
        from sklearn.feature_extraction.text import CountVectorizer

        if not texts:
            return []
        per_text: list[dict[str, tuple[str, list[np.ndarray]]]] = []  # key -> surface, vecs
        for i, phrases in enumerate(candidates):
            in_context = phrase_vectors[i] if phrase_vectors is not None else {}
            keys: dict[str, tuple[str, list[np.ndarray]]] = {}
            for phrase in phrases:
                key = " ".join(self._analyzer(phrase))
                if key and len(key.split()) <= _MAX_PHRASE_TOKENS:
                    _, vectors = keys.setdefault(key, (phrase, []))
                    if phrase in in_context:
                        vectors.append(in_context[phrase])
            per_text.append(keys)
        unknown = sorted({k for keys in per_text for k, (_, vecs) in keys.items() if not vecs})
        encoded = dict(zip(unknown, self.phrase_vectors(unknown), strict=True)) if unknown else {}
        if doc_vectors is None:
            doc_vectors = self.embedder.encode(list(texts))
        out: list[list[Keyphrase]] = []
        for text, keys, doc_vector in zip(texts, per_text, doc_vectors, strict=True):
            if not keys:
                out.append([])
                continue
            vocabulary = sorted(keys)
            word_vectors = np.stack(
                [np.mean(keys[k][1], axis=0) if keys[k][1] else encoded[k] for k in vocabulary]
            )
            vectorizer = CountVectorizer(
                vocabulary=vocabulary, ngram_range=(1, _MAX_PHRASE_TOKENS), lowercase=True
            )
            found: Any = self._keybert.extract_keywords(
                [text],
                vectorizer=vectorizer,
                use_mmr=True,
                diversity=self.diversity,
                top_n=top_n,
                doc_embeddings=doc_vector[None, :],
                word_embeddings=word_vectors,
            )
            out.append(
                [
                    Keyphrase(normalize_key(keys[k][0]), keys[k][0], float(score))
                    for k, score in found
                ]
            )
        return out

    def phrase_vectors(self, phrases: list[str]) -> np.ndarray:
        """Vectors for phrases, encoding only those not seen before in this process."""
        with self._lock:
            missing = [p for p in dict.fromkeys(phrases) if p not in self._cache]
        if missing:
            vectors = self.embedder.encode(missing, batch_size=256)
            with self._lock:
                for phrase, vector in zip(missing, vectors, strict=True):
                    self._cache[phrase] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = [self._cache.get(p) for p in phrases]
        if any(row is None for row in rows):  # evicted meanwhile by another thread
            return self.embedder.encode(phrases)
        return np.stack([row for row in rows if row is not None])


_ZH_KEEP_FLAGS = frozenset(
    {"n", "nr", "nrfg", "nrt", "ns", "nt", "nz", "nl", "ng", "vn", "an", "l", "j", "eng"}
)
# TextRank needs a co-occurrence graph worth ranking; below this many words TF-IDF wins.
_TEXTRANK_MIN_WORDS = 60


class ChineseKeyphrases:
    """jieba's IDF table (TF-IDF) for short texts, jieba's TextRank graph for long ones,
    over words already segmented; stopwords and one-character words are skipped."""

    name = "jieba"

    def __init__(self) -> None:
        import jieba.analyse

        tfidf = jieba.analyse.TFIDF()
        self._idf: dict[str, float] = tfidf.idf_freq
        self._median_idf: float = tfidf.median_idf
        self._stop = STOPWORDS_ZH | {w.lower() for w in tfidf.stop_words}

    def extract(self, words: list[Word], top_n: int) -> list[Keyphrase]:
        kept = [
            w.text for w in words
            if w.flag in _ZH_KEEP_FLAGS and len(w.text) >= 2 and w.text.lower() not in self._stop
        ]
        if not kept:
            return []
        scores = self._textrank(kept) if len(kept) >= _TEXTRANK_MIN_WORDS else self._tfidf(kept)
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
        top = best[0][1] or 1.0
        return [Keyphrase(normalize_key(w), w, round(s / top, 4)) for w, s in best]

    def _tfidf(self, kept: list[str]) -> dict[str, float]:
        counts: dict[str, int] = {}
        for word in kept:
            counts[word] = counts.get(word, 0) + 1
        return {w: c * self._idf.get(w, self._median_idf) for w, c in counts.items()}

    @staticmethod
    def _textrank(kept: list[str], window: int = 5) -> dict[str, float]:
        from jieba.analyse.textrank import UndirectWeightedGraph

        graph = UndirectWeightedGraph()
        pairs: dict[tuple[str, str], int] = {}
        for i, word in enumerate(kept):
            for other in kept[i + 1 : i + window]:
                if other != word:
                    pairs[(word, other)] = pairs.get((word, other), 0) + 1
        for (a, b), weight in pairs.items():
            graph.addEdge(a, b, weight)
        ranks: dict[str, float] = graph.rank() if pairs else {}
        return {w: r for w, r in ranks.items() if not math.isnan(r)} or {kept[0]: 1.0}
