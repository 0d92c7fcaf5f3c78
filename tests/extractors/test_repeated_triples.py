"""A sentence repeated by chunk overlap yields its triples once, in the first chunk."""

from __future__ import annotations

from collections import Counter

import pytest

from kgrag.extractors.chunking import FixedChunker
from tests.extractors.ex_helpers import make_doc

TEXTS = {
    "zh": "马云在杭州创办了阿里巴巴。马化腾在深圳创办了腾讯。李彦宏在北京创办了百度。"
    "雷军在北京创办了小米。",
    "en": "Marie Curie discovered radium. Pierre Curie taught physics. "
    "Ernest Rutherford discovered the proton. Niels Bohr proposed a model.",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overlapping_chunks_store_each_triple_once(annotator, lang):
    doc = make_doc(TEXTS[lang], path=f"mem/{lang}.txt")
    sizes = {"zh": (30, 15), "en": (75, 40)}[lang]  # two sentences, one repeated
    chunks = FixedChunker(*sizes).chunk(doc)
    spans = Counter(span for c in chunks for span in _sentences(doc.text, c.span))
    assert max(spans.values()) > 1  # the overlap repeats sentences

    results = annotator.annotate([(doc, chunks, None)])
    triples = [
        (t.span, t.arg0, t.predicate, t.arg1, t.chunk_id) for r in results for t in r.triples
    ]
    once = Counter(t[:4] for t in triples)
    assert len(once) >= 4 and max(once.values()) == 1
    first_chunk = {span: min(c.idx for c in chunks if _inside(span, c.span)) for span in spans}
    for span, *_, chunk_id in triples:
        assert chunk_id == f"{doc.id}:{first_chunk[span]}"


def _sentences(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    from kgrag.extractors.sentences import split_sentences

    a, _ = span
    return [(a + s, a + e) for s, e in split_sentences(text[span[0] : span[1]], "zh")]


def _inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]
