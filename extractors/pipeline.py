"""The Annotator: entities, keyphrases and triples for many chunks at once, each part of
a chunk routed to the tools of its language.

English parts go through spaCy's `nlp.pipe` in batches (NER, the dependency parse for
triples and the noun chunks that are keyphrase candidates come from the same pass), with
the model work of keyphrases (and of embedding, in `embed_and_annotate`) on a worker
thread; Chinese parts are segmented once by jieba and the words are shared by the entity
fallback, keyphrases and POS-pattern triples.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from extractors.chunking import Chunker, embedding_units
from extractors.entities import (
    EntitySpan,
    HanlpEntities,
    JiebaEntities,
    ZhEntityBackend,
    propn_runs,
    spacy_entities,
)
from extractors.keyphrases import (
    Candidate,
    ChineseKeyphrases,
    EnglishKeyphrases,
    noun_phrase_candidates,
)
from extractors.lang import detect_lang, split_paragraphs_by_lang
from extractors.nlp_en import DEFAULT_SPACY_MODEL, load_spacy
from extractors.normalize import normalize_key
from extractors.sentences import split_sentences
from extractors.token_vectors import TokenVectors, embed_with_tokens, mean_pooling
from extractors.triples_en import Frame, sentence_frames
from extractors.triples_zh import HanlpSrl, sentence_frames_zh
from extractors.zh_tokens import Word, jieba_tokenizer, pos_words
from kgrag.types import (
    Chunk,
    ChunkAnnotations,
    Document,
    Entity,
    Keyphrase,
    Lang,
    Mention,
    Triple,
)

if TYPE_CHECKING:
    from jieba.posseg import POSTokenizer
    from spacy.language import Language

    from kgrag.embed import Embedder

Item = tuple[Document, list[Chunk], np.ndarray | None]


@dataclass
class _Part:
    """A same-language stretch of a level-0 chunk (usually the whole chunk)."""

    item: int  # index of its document in the batch
    chunk: Chunk
    start: int  # offset in the document
    text: str
    lang: Lang
    whole: bool  # the part is the whole chunk, so the chunk's vector is its vector
    annotations: ChunkAnnotations
    keyphrases: list[Keyphrase] = field(default_factory=list)


class _Vectors:
    """The chunk vectors of a batch, per document, once they exist: given by the caller,
    or computed by an embedding job running beside the annotation (`embed_and_annotate`),
    which may also leave token embeddings for contextual phrase vectors. Only the worker
    thread reads it, after that job has finished."""

    def __init__(
        self,
        items: Sequence[tuple[Document, list[Chunk]]],
        rows: Callable[[], Sequence[np.ndarray | None]],
        tokens: Callable[[], Sequence[TokenVectors] | None] = lambda: None,
    ) -> None:
        self._items = items
        self._rows = rows
        self._tokens = tokens
        self._level0: dict[int, dict[str, np.ndarray]] = {}

    def of(self, part: _Part) -> np.ndarray | None:
        if not part.whole:
            return None
        if part.item not in self._level0:
            chunks = self._items[part.item][1]
            self._level0[part.item] = _level0_vectors(chunks, self._rows()[part.item])
        return self._level0[part.item].get(part.chunk.id)

    def phrase(self, part: _Part, candidate: Candidate) -> np.ndarray | None:
        tokens = self._tokens()
        if tokens is None:
            return None
        start = part.start + candidate.start
        return tokens[part.item].span_vector(start, start + len(candidate.text))


class Annotator:
    """Built by `build_annotator`. Calls are serialised by a lock (spaCy and jieba share
    state); inside a call, keyphrase (and embedding) model work runs on one worker thread
    beside the spaCy parse, which releases the GIL: on two cores the two overlap."""

    def __init__(
        self,
        *,
        nlp: Language,
        spacy_name: str,
        embedder: Embedder | None,
        zh_entities: ZhEntityBackend,
        zh_tokenizer: POSTokenizer,
        srl: HanlpSrl | None,
        keyphrases_top_n: int,
        keyphrases: bool,
        triples: bool,
        batch_size: int = 64,
    ) -> None:
        self._nlp = nlp
        self._zh_entities = zh_entities
        self._zh_tokenizer = zh_tokenizer
        self._srl = srl
        self._en_keyphrases = (
            english_keyphrases(embedder) if keyphrases and embedder is not None else None
        )
        self._zh_keyphrases = ChineseKeyphrases() if keyphrases else None
        self.embedder = embedder
        self.top_n = keyphrases_top_n
        self.triples = triples
        self.batch_size = batch_size
        self.timings: dict[str, float] = {}
        self.backends: dict[str, str] = {
            "en": f"spacy:{spacy_name}",
            "zh": zh_entities.name,
            "keyphrases_en": (
                f"keybert:{embedder.name}" if self._en_keyphrases and embedder else "off"
            ),
            "keyphrases_zh": ChineseKeyphrases.name if keyphrases else "off",
            "triples_en": "spacy-dependencies" if triples else "off",
            "triples_zh": (srl.name if srl else "jieba-pos-patterns") if triples else "off",
        }
        self._lock = threading.RLock()
        self._timings_lock = threading.Lock()

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        """Adds the stage's seconds to `timings` (stages on the worker thread overlap the
        others in wall-clock time)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._timings_lock:
                self.timings[stage] = self.timings.get(stage, 0.0) + elapsed

    def annotate(self, items: Sequence[Item]) -> list[ChunkAnnotations]:
        """One ChunkAnnotations per level-0 chunk, in input order; mention and triple spans
        are document offsets. `items[i][2]` is what the chunker's `embed` returned (rows
        for `embedding_units(chunks)`): it is reused as the keyphrase document vector, so
        pass it when you have it; None means "encode here"."""
        pairs = [(doc, chunks) for doc, chunks, _ in items]
        with self._lock, ThreadPoolExecutor(1, thread_name_prefix="kgrag-annotate") as pool:
            return self._run(pairs, _Vectors(pairs, lambda: [v for _, _, v in items]), pool)

    def embed_and_annotate(
        self, chunker: Chunker, items: Sequence[tuple[Document, list[Chunk]]]
    ) -> tuple[list[np.ndarray], list[ChunkAnnotations]]:
        """`chunker.embed_many(items, embedder)` and `annotate` in one call, the embedding
        running on the worker thread while spaCy parses (about 1.5x faster than the two
        calls one after the other on two cores). Returns (vectors per document,
        annotations)."""
        if self.embedder is None:
            raise ValueError("embed_and_annotate needs an annotator built with an embedder")
        embedder = self.embedder

        def embed() -> tuple[list[np.ndarray], list[TokenVectors] | None]:
            with self._timed("embed"):
                if type(chunker).embed is Chunker.embed and mean_pooling(embedder):
                    vectors, tokens = embed_with_tokens(items, embedder)
                    return vectors, tokens
                return chunker.embed_many(items, embedder), None

        with self._lock, ThreadPoolExecutor(1, thread_name_prefix="kgrag-annotate") as pool:
            future = pool.submit(embed)
            vectors = _Vectors(items, lambda: future.result()[0], lambda: future.result()[1])
            results = self._run(items, vectors, pool)
            return future.result()[0], results

    def _run(
        self,
        items: Sequence[tuple[Document, list[Chunk]]],
        vectors: _Vectors,
        pool: ThreadPoolExecutor,
    ) -> list[ChunkAnnotations]:
        with self._timed("route"):
            parts, results = self._parts(items)
        english = [p for p in parts if p.lang == "en"]
        chinese = [p for p in parts if p.lang == "zh"]
        jobs = self._english(english, vectors, pool) if english else []
        if chinese:
            self._chinese(chinese)
        for job in jobs:
            job.result()
        _add_title_entities(items, results)
        for part in parts:
            part.annotations.keyphrases.extend(part.keyphrases)
        for result in results:
            best: dict[str, Keyphrase] = {}
            for phrase in sorted(result.keyphrases, key=lambda k: -k.score):
                best.setdefault(phrase.key, phrase)
            result.keyphrases = list(best.values())[: self.top_n]
        return results

    def _parts(
        self, items: Sequence[tuple[Document, list[Chunk]]]
    ) -> tuple[list[_Part], list[ChunkAnnotations]]:
        parts: list[_Part] = []
        results: list[ChunkAnnotations] = []
        for n, (_doc, chunks) in enumerate(items):
            for chunk in chunks:
                if chunk.level != 0:
                    continue
                result = ChunkAnnotations(chunk_id=chunk.id)
                results.append(result)
                runs = split_paragraphs_by_lang(chunk.text)
                for (a, b), lang in runs:
                    parts.append(
                        _Part(
                            n,
                            chunk,
                            chunk.span[0] + a,
                            chunk.text[a:b],
                            lang,
                            len(runs) == 1,
                            result,
                        )
                    )
        return parts, results

    def _english(
        self, parts: list[_Part], vectors: _Vectors, pool: ThreadPoolExecutor
    ) -> list[Future[None]]:
        """Parse batch by batch; each batch's keyphrases go to the worker thread while the
        next batch is parsed. Returns the keyphrase jobs."""
        jobs: list[Future[None]] = []
        for first in range(0, len(parts), self.batch_size):
            batch = parts[first : first + self.batch_size]
            with self._timed("spacy"):
                docs = list(self._nlp.pipe([p.text for p in batch], batch_size=self.batch_size))
            with self._timed("entities_en"):
                for part, doc in zip(batch, docs, strict=True):
                    _add_mentions(part, spacy_entities(doc), "en")
            if self.triples:
                with self._timed("triples_en"):
                    for part, doc in zip(batch, docs, strict=True):
                        for sent in doc.sents:
                            span = (part.start + sent.start_char, part.start + sent.end_char)
                            _add_triples(part, sentence_frames(sent), sent.text, span)
            if self._en_keyphrases is not None:
                candidates = [noun_phrase_candidates(doc) for doc in docs]
                jobs.append(pool.submit(self._keyphrases_en, batch, candidates, vectors))
        return jobs

    def _keyphrases_en(
        self, parts: list[_Part], candidates: list[list[Candidate]], vectors: _Vectors
    ) -> None:
        assert self._en_keyphrases is not None and self.embedder is not None
        found = [vectors.of(p) for p in parts]
        with self._timed("keyphrases_en"):
            missing = [i for i, v in enumerate(found) if v is None]
            if missing:
                encoded = self.embedder.encode([parts[i].text for i in missing])
                for i, vector in zip(missing, encoded, strict=True):
                    found[i] = vector
            doc_vectors = np.stack([v for v in found if v is not None])
            in_context: dict[str, np.ndarray] = {}
            for part, part_candidates in zip(parts, candidates, strict=True):
                for candidate in part_candidates:
                    vector = vectors.phrase(part, candidate)
                    if vector is not None:
                        in_context.setdefault(candidate.text, vector)
            phrases = self._en_keyphrases.extract(
                [p.text for p in parts],
                [[c.text for c in cs] for cs in candidates],
                doc_vectors,
                self.top_n,
                in_context,
            )
        for part, part_phrases in zip(parts, phrases, strict=True):
            part.keyphrases = part_phrases

    def _chinese(self, parts: list[_Part]) -> None:
        with self._timed("segment_zh"):
            words = [pos_words(p.text, self._zh_tokenizer) for p in parts]
        with self._timed("entities_zh"):
            found = self._zh_entities.recognize([p.text for p in parts], words)
            for part, spans in zip(parts, found, strict=True):
                _add_mentions(part, spans, "zh")
        if self._zh_keyphrases is not None:
            with self._timed("keyphrases_zh"):
                for part, part_words in zip(parts, words, strict=True):
                    part.keyphrases = self._zh_keyphrases.extract(part_words, self.top_n)
        if self.triples:
            with self._timed("triples_zh"):
                self._chinese_triples(parts, words)

    def _chinese_triples(self, parts: list[_Part], words: list[list[Word]]) -> None:
        sentences: list[tuple[_Part, tuple[int, int], list[Word]]] = []
        for part, part_words in zip(parts, words, strict=True):
            for a, b in split_sentences(part.text, "zh"):
                inside = [w for w in part_words if a <= w.start and w.end <= b]
                sentences.append((part, (a, b), inside))
        if self._srl is not None:
            frames = self._srl.frames([[w.text for w in ws] for _, _, ws in sentences])
        else:
            frames = [sentence_frames_zh(p.text, ws) for p, _, ws in sentences]
        for (part, (a, b), _), sentence_frames_ in zip(sentences, frames, strict=True):
            span = (part.start + a, part.start + b)
            _add_triples(part, sentence_frames_, part.text[a:b], span)

    def entities_of(self, text: str) -> list[Entity]:
        """Entities of a short text such as a question. English adds runs of proper nouns
        the NER missed (type MISC): on a question a missed name loses the graph lookup."""
        with self._lock:
            lang = detect_lang(text)
            if lang == "en":
                doc = self._nlp(text)
                spans = spacy_entities(doc)
                spans += propn_runs(doc, spans)
            else:
                words = pos_words(text, self._zh_tokenizer)
                spans = self._zh_entities.recognize([text], [words])[0]
            return list(_entities(spans, lang).values())

    def query_terms(self, text: str) -> tuple[Lang, list[Entity], list[str]]:
        """Language, entities and candidate phrases of a question, from one parse and no
        model call: query linking embeds the phrases itself, so KeyBERT's ranking of them
        (a model call per question) would be wasted work on the query path."""
        with self._lock:
            lang = detect_lang(text)
            if lang == "en":
                doc = self._nlp(text)
                spans = spacy_entities(doc)
                spans += propn_runs(doc, spans)
                phrases = [c.text for c in noun_phrase_candidates(doc)]
            else:
                words = pos_words(text, self._zh_tokenizer)
                spans = self._zh_entities.recognize([text], [words])[0]
                phrases = (
                    [k.text for k in self._zh_keyphrases.extract(words, self.top_n)]
                    if self._zh_keyphrases is not None
                    else []
                )
            return lang, list(_entities(spans, lang).values()), phrases

    def keyphrases_of(self, text: str, *, vector: np.ndarray | None = None) -> list[Keyphrase]:
        """Keyphrases of a short text; pass its vector when you have it (saves a model
        call)."""
        with self._lock:
            if detect_lang(text) == "zh":
                if self._zh_keyphrases is None:
                    return []
                return self._zh_keyphrases.extract(pos_words(text, self._zh_tokenizer), self.top_n)
            if self._en_keyphrases is None:
                return []
            doc = self._nlp(text)
            vectors = None if vector is None else np.asarray(vector, dtype=np.float32)[None, :]
            candidates = [c.text for c in noun_phrase_candidates(doc)]
            return self._en_keyphrases.extract([text], [candidates], vectors, self.top_n)[0]


def _level0_vectors(chunks: list[Chunk], vectors: np.ndarray | None) -> dict[str, np.ndarray]:
    """A vector per level-0 chunk: its own row, or the normalised mean of its children's
    rows in a two-level index."""
    if vectors is None:
        return {}
    units = embedding_units(chunks)
    if len(units) != len(vectors):
        raise ValueError(f"{len(vectors)} vectors for {len(units)} embedding units")
    by_parent: dict[str, list[np.ndarray]] = {}
    for unit, row in zip(units, vectors, strict=True):
        by_parent.setdefault(unit.parent_id or unit.id, []).append(row)
    out: dict[str, np.ndarray] = {}
    for chunk_id, rows in by_parent.items():
        mean = np.mean(rows, axis=0)
        out[chunk_id] = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
    return out


def _entities(spans: list[EntitySpan], lang: Lang) -> dict[str, Entity]:
    entities: dict[str, Entity] = {}
    for span in spans:
        key = normalize_key(span.text)
        if key:
            entities.setdefault(key, Entity(key, span.text, span.label, lang))
    return entities


_QUALIFIER = re.compile(r"\s*[(（][^)）]*[)）]\s*$")
MAX_TITLE_WORDS = 8


def title_entity(doc: Document) -> Entity | None:
    """The document's subject as an entity when its title names one: a short title from
    the document itself (a heading, <title>, docx heading), not a file name. A trailing
    qualifier such as "Lilu (mythology)" is dropped. Chunks of the document all mention
    it, which ties passages that mention the subject to the passage about it."""
    title = doc.title.strip()
    if not title or title == Path(doc.path).stem:
        return None
    name = _QUALIFIER.sub("", title).strip() or title
    too_long = len(name.split()) > MAX_TITLE_WORDS if doc.lang == "en" else len(name) > 20
    key = normalize_key(name)
    if too_long or not key:
        return None
    return Entity(key, name, "TITLE", doc.lang)


def _add_title_entities(
    items: Sequence[tuple[Document, list[Chunk]]], results: list[ChunkAnnotations]
) -> None:
    by_chunk = {r.chunk_id: r for r in results}
    for doc, chunks in items:
        entity = title_entity(doc)
        at_doc = doc.text.find(entity.name) if entity else -1
        if entity is None or at_doc < 0:  # a mention must point at text
            continue
        for chunk in chunks:
            result = by_chunk.get(chunk.id)
            if result is None:
                continue
            if all(e.key != entity.key for e in result.entities):
                result.entities.append(entity)
            if all(m.entity_key != entity.key for m in result.mentions):
                at = chunk.text.find(entity.name)
                start = chunk.span[0] + at if at >= 0 else at_doc
                result.mentions.append(
                    Mention(chunk.id, entity.key, (start, start + len(entity.name)))
                )


def _add_mentions(part: _Part, spans: list[EntitySpan], lang: Lang) -> None:
    annotations = part.annotations
    known = {e.key for e in annotations.entities}
    for key, entity in _entities(spans, lang).items():
        if key not in known:
            annotations.entities.append(entity)
    for span in spans:
        key = normalize_key(span.text)
        if key:
            annotations.mentions.append(
                Mention(part.chunk.id, key, (part.start + span.start, part.start + span.end))
            )


def _add_triples(part: _Part, frames: list[Frame], sentence: str, span: tuple[int, int]) -> None:
    for frame in frames:
        part.annotations.triples.append(
            Triple(
                predicate=frame.predicate,
                arg0=frame.arg0,
                arg1=frame.arg1,
                args=frame.args,
                negated=frame.negated,
                chunk_id=part.chunk.id,
                sentence=sentence,
                span=span,
            )
        )


@lru_cache(maxsize=4)
def english_keyphrases(embedder: Embedder) -> EnglishKeyphrases:
    """One per embedder per process, so the phrase-vector cache is shared."""
    return EnglishKeyphrases(embedder)


def build_annotator(
    *,
    embedder: Embedder | None,
    spacy_model: str = DEFAULT_SPACY_MODEL,
    hanlp_ner: str | None = None,
    hanlp_tok: str | None = None,
    hanlp_srl: str | None = None,
    user_dict: str | None = None,
    keyphrases_top_n: int = 5,
    keyphrases: bool = True,
    triples: bool = True,
    batch_size: int = 64,
) -> Annotator:
    """Load the models (once per process) and wire the backends.

    `hanlp_ner` / `hanlp_tok` / `hanlp_srl` name local HanLP models (a folder, a folder
    under HANLP_HOME, or a HanLP pretrained id already downloaded there); a named model
    that is not on disk raises ModelNotFoundError instead of downloading. Without
    `hanlp_ner`, Chinese entities come from jieba (with `user_dict` if given). English
    keyphrases need the embedder; without one they are off.
    """
    if hanlp_tok is not None and hanlp_ner is None:
        raise ValueError("hanlp_tok feeds the HanLP NER: give hanlp_ner as well")
    nlp = load_spacy(spacy_model, parse=triples or keyphrases)
    zh_entities: ZhEntityBackend = (
        HanlpEntities(hanlp_ner, hanlp_tok) if hanlp_ner is not None else JiebaEntities()
    )
    return Annotator(
        nlp=nlp,
        spacy_name=spacy_model,
        embedder=embedder,
        zh_entities=zh_entities,
        zh_tokenizer=jieba_tokenizer(user_dict),
        srl=HanlpSrl(hanlp_srl) if hanlp_srl is not None and triples else None,
        keyphrases_top_n=keyphrases_top_n,
        keyphrases=keyphrases,
        triples=triples,
        batch_size=batch_size,
    )
