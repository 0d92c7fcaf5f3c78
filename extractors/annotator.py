"""The Annotator: entities, keyphrases and triples for many chunks at once, each part of
a chunk routed to the annotator of its language (`annotate_en`, `annotate_zh`).

Model work that does not need the parse (keyphrase ranking, and the chunk embedding in
`embed_and_annotate`) runs on one worker thread beside it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

from kgrag.core.errors import ConfigError
from kgrag.core.ids import doc_id_of_chunk
from kgrag.core.settings import BATCH_SIZE
from kgrag.core.types import Chunk, ChunkAnnotations, Document, Entity, Keyphrase, Lang, Mention
from kgrag.extractors.annotate_en import EnglishAnnotator
from kgrag.extractors.annotate_zh import ChineseAnnotator
from kgrag.extractors.annotation_parts import ChunkVectors, LanguageAnnotator, Part, StageTimer
from kgrag.extractors.chunking import Chunker
from kgrag.extractors.embed import Embedder, SentenceEmbedder
from kgrag.extractors.entities import HanlpEntities, JiebaEntities, ZhEntityBackend
from kgrag.extractors.keyphrases import ChineseKeyphrases, EnglishKeyphrases
from kgrag.extractors.lang import split_paragraphs_by_lang
from kgrag.extractors.nlp_en import DEFAULT_SPACY_MODEL, load_spacy
from kgrag.extractors.normalize import normalize_key
from kgrag.extractors.token_vectors import TokenVectors, embed_with_tokens, mean_pooling
from kgrag.extractors.triples_zh import HanlpSrl
from kgrag.extractors.zh_tokens import jieba_tokenizer

Item = tuple[Document, list[Chunk], np.ndarray | None]


class Annotator:
    """Built by `build_annotator`. One batch runs at a time; the language annotators
    guard their own tools, so a question can be analysed between a batch's steps."""

    def __init__(
        self,
        languages: dict[Lang, LanguageAnnotator],
        embedder: Embedder | None,
        top_n: int,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        """`batch_size`: level-0 chunks per call in `extraction.extract`, so that an
        ingestion reports progress (and lets a question in) between such batches."""
        self.languages = languages
        self.embedder = embedder
        self.top_n = top_n
        self.batch_size = batch_size
        self.timer = StageTimer()
        self.backends: dict[str, str] = {
            name: backend for lang in languages.values() for name, backend in lang.backends.items()
        }
        self._batch_lock = threading.Lock()

    @property
    def timings(self) -> dict[str, float]:
        return self.timer.seconds

    def annotate(self, items: Sequence[Item]) -> list[ChunkAnnotations]:
        """One ChunkAnnotations per level-0 chunk, in input order; mention and triple spans
        are document offsets. `items[i][2]` is what the chunker's `embed` returned (rows
        for `embedding_units(chunks)`): it is reused as the keyphrase document vector, so
        pass it when you have it; None means "encode here"."""
        pairs = [(doc, chunks) for doc, chunks, _ in items]
        vectors = ChunkVectors(pairs, lambda: [v for _, _, v in items])
        with self._batch_lock, ThreadPoolExecutor(1, thread_name_prefix="kgrag-annotate") as pool:
            return self._run(pairs, vectors, pool)

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
            with self.timer("embed"):
                if (
                    type(chunker).embed is Chunker.embed
                    and isinstance(embedder, SentenceEmbedder)
                    and mean_pooling(embedder)
                ):
                    vectors, tokens = embed_with_tokens(items, embedder)
                    return vectors, tokens
                return chunker.embed_many(items, embedder), None

        with self._batch_lock, ThreadPoolExecutor(1, thread_name_prefix="kgrag-annotate") as pool:
            future = pool.submit(embed)
            vectors = ChunkVectors(items, lambda: future.result()[0], lambda: future.result()[1])
            results = self._run(items, vectors, pool)
            return future.result()[0], results

    def _run(
        self,
        items: Sequence[tuple[Document, list[Chunk]]],
        vectors: ChunkVectors,
        pool: ThreadPoolExecutor,
    ) -> list[ChunkAnnotations]:
        with self.timer("route"):
            parts, results = _parts(items)
        jobs = []
        for lang, annotator in self.languages.items():
            mine = [p for p in parts if p.lang == lang]
            if mine:
                jobs += annotator.annotate(mine, vectors, pool, self.timer)
        for job in jobs:
            job.result()
        drop_repeated_triples(results)
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
    items: Sequence[tuple[Document, list[Chunk]]],
) -> tuple[list[Part], list[ChunkAnnotations]]:
    parts: list[Part] = []
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
                    Part(n, chunk, chunk.span[0] + a, chunk.text[a:b], lang, len(runs) == 1, result)
                )
    return parts, results


def drop_repeated_triples(results: list[ChunkAnnotations]) -> None:
    """Overlapping chunks repeat sentences, and each copy yields the same triples: keep
    the first chunk's (one per document, sentence span and arguments)."""
    seen: set[tuple[str, tuple[int, int], str | None, str, str | None, bool]] = set()
    for result in results:
        doc_id = doc_id_of_chunk(result.chunk_id)
        kept = []
        for t in result.triples:
            key = (doc_id, t.span, t.arg0, t.predicate, t.arg1, t.negated)
            if key not in seen:
                seen.add(key)
                kept.append(t)
        result.triples = kept


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


@lru_cache(maxsize=4)
def english_keyphrases(embedder: SentenceEmbedder) -> EnglishKeyphrases:
    """One per embedder per process, so the phrase-vector cache is shared."""
    return EnglishKeyphrases(embedder)


def build_annotator(
    *,
    embedder: Embedder | None,
    keyphrase_embedder: SentenceEmbedder | None = None,
    spacy_model: str = DEFAULT_SPACY_MODEL,
    hanlp_ner: str | None = None,
    hanlp_tok: str | None = None,
    hanlp_srl: str | None = None,
    user_dict: str | None = None,
    keyphrases_top_n: int = 5,
    keyphrases: bool = True,
    triples: bool = True,
    batch_size: int = BATCH_SIZE,
) -> Annotator:
    """Load the models (once per process) and wire the language annotators.

    `hanlp_ner` / `hanlp_tok` / `hanlp_srl` name local HanLP models (a folder, a folder
    under HANLP_HOME, or a HanLP pretrained id already downloaded there); a named model
    that is not on disk raises ModelNotFoundError instead of downloading. Without
    `hanlp_ner`, Chinese entities come from jieba (with `user_dict` if given). English
    keyphrases (KeyBERT) need a sentence-transformers model: `keyphrase_embedder`, or
    else `embedder` when it is one; without either they are off.
    """
    if hanlp_tok is not None and hanlp_ner is None:
        raise ConfigError("hanlp_tok feeds the HanLP NER: give hanlp_ner as well")
    zh_entities: ZhEntityBackend = (
        HanlpEntities(hanlp_ner, hanlp_tok) if hanlp_ner is not None else JiebaEntities()
    )
    if keyphrase_embedder is None and isinstance(embedder, SentenceEmbedder):
        keyphrase_embedder = embedder
    english = EnglishAnnotator(
        load_spacy(spacy_model, parse=triples or keyphrases),
        spacy_model,
        keyphrases=(
            english_keyphrases(keyphrase_embedder) if keyphrases and keyphrase_embedder else None
        ),
        embedder=keyphrase_embedder,
        reuse_chunk_vectors=keyphrase_embedder is embedder,
        triples=triples,
        top_n=keyphrases_top_n,
        batch_size=batch_size,
    )
    chinese = ChineseAnnotator(
        zh_entities,
        jieba_tokenizer(user_dict),
        srl=HanlpSrl(hanlp_srl) if hanlp_srl is not None and triples else None,
        keyphrases=ChineseKeyphrases() if keyphrases else None,
        triples=triples,
        top_n=keyphrases_top_n,
    )
    return Annotator({"en": english, "zh": chinese}, embedder, keyphrases_top_n, batch_size)
