"""English annotation: one spaCy pass per batch gives the entities, the dependency parse
for triples and the noun chunks that are keyphrase candidates; KeyBERT ranks the
candidates on the worker thread while the next batch is parsed (spaCy releases the GIL,
so on two cores the two overlap)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from kgrag.extractors.annotation_parts import (
    ChunkVectors,
    LanguageAnnotator,
    Part,
    StageTimer,
    add_mentions,
    add_triples,
)
from kgrag.extractors.entities import EntitySpan, propn_runs, spacy_entities
from kgrag.extractors.keyphrases import Candidate, EnglishKeyphrases, noun_phrase_candidates
from kgrag.extractors.triples_en import sentence_frames

if TYPE_CHECKING:
    from spacy.language import Language

    from kgrag.extractors.embed import Embedder


# A line break inside a sentence of hard-wrapped text: after a line of some length that
# does not end a sentence, before a line that does not open a heading, list item, table
# row or quote.
_WRAPPED = re.compile(r"(?<=[^\n]{40})(?<![.!?:;\n])\n(?=[^\s#>|*+\-\d])")


def unwrap_lines(text: str) -> str:
    """`text` with the line breaks of hard-wrapped paragraphs made spaces, the same length
    (offsets hold). spaCy's parser reads a lone line break as a token of its own and
    attaches what follows it badly: "taught at the School of ... (ESPCI),\nwhere Marie Curie
    also worked" made the clause the object of "taught" (a relation Pierre Curie -> teach
    -> Marie Curie); joined, it is a relative clause about the school."""
    return _WRAPPED.sub(" ", text)


class EnglishAnnotator(LanguageAnnotator):
    lang = "en"

    def __init__(
        self,
        nlp: Language,
        spacy_name: str,
        *,
        keyphrases: EnglishKeyphrases | None,
        embedder: Embedder | None,
        reuse_chunk_vectors: bool = True,
        triples: bool,
        top_n: int,
        batch_size: int,
    ) -> None:
        self._nlp = nlp
        self._keyphrases = keyphrases
        self._embedder = embedder
        # The chunks' own vectors serve as KeyBERT's document vectors only when the
        # chunks were embedded by the keyphrase model itself.
        self._reuse_chunk_vectors = reuse_chunk_vectors
        self.triples = triples
        self.top_n = top_n
        self.batch_size = batch_size
        self._lock = threading.Lock()  # spaCy pipelines are not safe to share across threads
        self.backends = {
            "en": f"spacy:{spacy_name}",
            "keyphrases_en": f"keybert:{embedder.name}" if keyphrases and embedder else "off",
            "triples_en": "spacy-dependencies" if triples else "off",
        }

    def annotate(
        self,
        parts: list[Part],
        vectors: ChunkVectors,
        pool: ThreadPoolExecutor,
        timed: StageTimer,
    ) -> list[Future[None]]:
        """Parse batch by batch; each batch's keyphrases go to the worker thread while the
        next batch is parsed. Returns the keyphrase jobs."""
        jobs: list[Future[None]] = []
        for first in range(0, len(parts), self.batch_size):
            batch = parts[first : first + self.batch_size]
            with timed("spacy"), self._lock:
                texts = [unwrap_lines(p.text) for p in batch]
                docs = list(self._nlp.pipe(texts, batch_size=self.batch_size))
            with timed("entities_en"):
                for part, doc in zip(batch, docs, strict=True):
                    add_mentions(part, spacy_entities(doc))
            if self.triples:
                with timed("triples_en"):
                    for part, doc in zip(batch, docs, strict=True):
                        for sent in doc.sents:
                            span = (part.start + sent.start_char, part.start + sent.end_char)
                            add_triples(part, sentence_frames(sent), sent.text, span)
            if self._keyphrases is not None:
                candidates = [noun_phrase_candidates(doc) for doc in docs]
                jobs.append(pool.submit(self._rank_keyphrases, batch, candidates, vectors, timed))
        return jobs

    def _rank_keyphrases(
        self,
        parts: list[Part],
        candidates: list[list[Candidate]],
        vectors: ChunkVectors,
        timed: StageTimer,
    ) -> None:
        assert self._keyphrases is not None and self._embedder is not None
        found = [vectors.of(p) if self._reuse_chunk_vectors else None for p in parts]
        with timed("keyphrases_en"):
            missing = [i for i, v in enumerate(found) if v is None]
            if missing:
                encoded = self._embedder.encode([parts[i].text for i in missing])
                for i, vector in zip(missing, encoded, strict=True):
                    found[i] = vector
            doc_vectors = np.stack([v for v in found if v is not None])
            in_context: list[dict[str, np.ndarray]] = []
            for part, part_candidates in zip(parts, candidates, strict=True):
                found_here: dict[str, np.ndarray] = {}
                for candidate in part_candidates if self._reuse_chunk_vectors else ():
                    vector = vectors.phrase(part, candidate)
                    if vector is not None:
                        found_here.setdefault(candidate.text, vector)
                in_context.append(found_here)
            phrases = self._keyphrases.extract(
                [p.text for p in parts],
                [[c.text for c in cs] for cs in candidates],
                doc_vectors,
                self.top_n,
                in_context,
            )
        for part, part_phrases in zip(parts, phrases, strict=True):
            part.keyphrases = part_phrases

    def query_terms(self, text: str) -> tuple[list[EntitySpan], list[str]]:
        """Adds runs of proper nouns the NER missed (type MISC): on a question a missed
        name loses the graph lookup. Phrases are the noun-phrase candidates, unranked:
        linking embeds them itself, so KeyBERT's ranking would be a wasted model call."""
        with self._lock:
            doc = self._nlp(text)
        spans = spacy_entities(doc)
        spans += propn_runs(doc, spans)
        return spans, [c.text for c in noun_phrase_candidates(doc)]
