"""Chinese annotation: each part is segmented once by jieba, and the words are shared by
the entity backend (jieba POS tags, or a local HanLP NER), keyphrases and triples (POS
patterns, or a local HanLP SRL model)."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from kgrag.extractors.annotation_parts import (
    ChunkVectors,
    LanguageAnnotator,
    Part,
    StageTimer,
    add_mentions,
    add_triples,
)
from kgrag.extractors.entities import EntitySpan, ZhEntityBackend
from kgrag.extractors.keyphrases import ChineseKeyphrases
from kgrag.extractors.sentences import split_sentences
from kgrag.extractors.triples_zh import HanlpSrl, sentence_frames_zh
from kgrag.extractors.zh_tokens import Word, pos_words

if TYPE_CHECKING:
    from jieba.posseg import POSTokenizer


class ChineseAnnotator(LanguageAnnotator):
    lang = "zh"

    def __init__(
        self,
        entities: ZhEntityBackend,
        tokenizer: POSTokenizer,
        *,
        srl: HanlpSrl | None,
        keyphrases: ChineseKeyphrases | None,
        triples: bool,
        top_n: int,
    ) -> None:
        self._entities = entities
        self._tokenizer = tokenizer
        self._srl = srl
        self._keyphrases = keyphrases
        self.triples = triples
        self.top_n = top_n
        self._lock = threading.Lock()  # jieba's tokenizer and HanLP models keep state
        self.backends = {
            "zh": entities.name,
            "keyphrases_zh": ChineseKeyphrases.name if keyphrases else "off",
            "triples_zh": (srl.name if srl else "jieba-pos-patterns") if triples else "off",
        }

    def annotate(
        self,
        parts: list[Part],
        vectors: ChunkVectors,
        pool: ThreadPoolExecutor,
        timed: StageTimer,
    ) -> list[Future[None]]:
        with self._lock:
            with timed("segment_zh"):
                words = [pos_words(p.text, self._tokenizer) for p in parts]
            with timed("entities_zh"):
                found = self._entities.recognize([p.text for p in parts], words)
                for part, spans in zip(parts, found, strict=True):
                    add_mentions(part, spans)
            if self._keyphrases is not None:
                with timed("keyphrases_zh"):
                    for part, part_words in zip(parts, words, strict=True):
                        part.keyphrases = self._keyphrases.extract(part_words, self.top_n)
            if self.triples:
                with timed("triples_zh"):
                    self._triples(parts, words)
        return []

    def _triples(self, parts: list[Part], words: list[list[Word]]) -> None:
        sentences: list[tuple[Part, tuple[int, int], list[Word]]] = []
        for part, part_words in zip(parts, words, strict=True):
            for a, b in split_sentences(part.text, "zh"):
                inside = [w for w in part_words if a <= w.start and w.end <= b]
                sentences.append((part, (a, b), inside))
        if self._srl is not None:
            frames = self._srl.frames([[w.text for w in ws] for _, _, ws in sentences])
        else:
            frames = [sentence_frames_zh(p.text, ws) for p, _, ws in sentences]
        for (part, (a, b), _), sentence_frames in zip(sentences, frames, strict=True):
            span = (part.start + a, part.start + b)
            add_triples(part, sentence_frames, part.text[a:b], span)

    def query_terms(self, text: str) -> tuple[list[EntitySpan], list[str]]:
        """Phrases are the top keywords (TF-IDF / TextRank over the segmented words)."""
        with self._lock:
            words = pos_words(text, self._tokenizer)
            spans = self._entities.recognize([text], [words])[0]
            phrases = (
                [k.text for k in self._keyphrases.extract(words, self.top_n)]
                if self._keyphrases is not None
                else []
            )
        return spans, phrases
