from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from kgrag.extractors.chunking import (
    FixedChunker,
    LateChunker,
    SemanticChunker,
    TwoLevelChunker,
    embedding_units,
    make_chunker,
)
from kgrag.extractors.sentences import split_sentences
from tests.extractors.ex_helpers import make_doc

SPACE = (
    "The rocket lifted off from the launch pad at dawn. Its engines burned for nine minutes. "
    "The capsule reached orbit around the Earth. Astronauts checked the docking port. "
)
COOKING = (
    "Knead the dough until it is smooth and elastic. Let the bread rise in a warm kitchen. "
    "Bake the loaf in a hot oven for forty minutes. Butter tastes great on warm bread. "
)


def assert_valid(doc, chunks):
    for chunk in chunks:
        a, b = chunk.span
        assert chunk.text == doc.text[a:b]
        assert chunk.id == f"{doc.id}:{chunk.idx}" and chunk.doc_id == doc.id
    assert len({c.idx for c in chunks}) == len(chunks)


def test_fixed_chunker_packs_sentences_with_overlap():
    doc = make_doc(SPACE * 6)
    chunks = FixedChunker(max_chars=300, overlap_chars=120).chunk(doc)
    assert_valid(doc, chunks)
    assert len(chunks) > 2
    assert all(len(c.text) <= 300 for c in chunks)
    starts = {a for a, _ in split_sentences(doc.text, "en")}
    ends = {b for _, b in split_sentences(doc.text, "en")}
    assert all(c.span[0] in starts and c.span[1] in ends for c in chunks)
    for prev, nxt in pairwise(chunks):
        assert nxt.span[0] < prev.span[1]  # overlap
        assert prev.span[1] - nxt.span[0] <= 120
    assert chunks[-1].span[1] == len(doc.text.rstrip())


def test_fixed_chunker_without_overlap_covers_text_once():
    doc = make_doc(SPACE * 4)
    chunks = FixedChunker(max_chars=200, overlap_chars=0).chunk(doc)
    assert all(n.span[0] >= p.span[1] for p, n in pairwise(chunks))
    assert "".join(c.text for c in chunks).replace(" ", "") == doc.text.replace(" ", "")


def test_long_sentence_is_cut_and_chinese_sentences_are_used():
    doc = make_doc("word " * 500)
    assert all(len(c.text) <= 100 for c in FixedChunker(100, 0).chunk(doc))
    zh = make_doc("北京是中国的首都。" * 30)
    chunks = FixedChunker(max_chars=50, overlap_chars=0).chunk(zh)
    assert_valid(zh, chunks)
    assert all(c.text.endswith("。") and len(c.text) <= 50 for c in chunks)


def test_chunks_start_at_headings():
    text = "# Intro\nShort intro.\n\n# Details\nMore text here."
    doc = make_doc(text)
    doc.meta["headings"] = [(0, 1, "Intro"), (text.index("# Details"), 1, "Details")]
    chunks = FixedChunker(max_chars=800).chunk(doc)
    assert [c.text for c in chunks] == ["# Intro\nShort intro.", "# Details\nMore text here."]


def test_semantic_chunker_cuts_where_topic_changes(embedder):
    doc = make_doc(SPACE + COOKING)
    chunks = SemanticChunker(embedder, percentile=90, min_chars=100, max_chars=2000).chunk(doc)
    assert_valid(doc, chunks)
    assert [c.text for c in chunks] == [SPACE.strip(), COOKING.strip()]
    # a high similarity threshold cuts wherever min_chars allows, max_chars is a hard cap
    many = SemanticChunker(embedder, threshold=0.99, min_chars=40, max_chars=2000).chunk(doc)
    assert len(many) > 2
    capped = SemanticChunker(embedder, threshold=-1.0, min_chars=10, max_chars=200).chunk(doc)
    assert all(len(c.text) <= 200 for c in capped) and len(capped) >= 2


def test_late_chunker_pools_contextual_token_vectors(embedder):
    doc = make_doc(SPACE + COOKING)
    chunker = LateChunker(max_chars=200)
    chunks = chunker.chunk(doc)
    vectors = chunker.embed(doc, chunks, embedder)
    assert vectors.shape == (len(chunks), embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    plain = embedder.encode([c.text for c in chunks])
    cos = np.sum(vectors * plain, axis=1)
    assert np.all(cos > 0.5) and np.all(cos < 0.999)  # related to, not equal to, plain vectors


def test_late_chunker_windows_long_documents(embedder):
    doc = make_doc((SPACE + COOKING) * 12)  # well over the model's 256 tokens
    chunker = LateChunker(max_chars=400)
    assert len(chunker._windows(doc.text, embedder)) > 2
    chunks = chunker.chunk(doc)
    vectors = chunker.embed(doc, chunks, embedder)
    assert vectors.shape == (len(chunks), embedder.dim)
    assert np.isfinite(vectors).all()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    space, cooking = embedder.encode(["rocket launch into orbit", "baking bread in an oven"])
    last = chunks[-1]  # covered only by the last window
    assert "bread" in last.text or "Bake" in last.text or "Butter" in last.text
    assert float(vectors[-1] @ cooking) > float(vectors[-1] @ space)


def test_two_level_chunker_parents_children_and_embedding_units(embedder):
    doc = make_doc(SPACE * 3 + "Ok. " + COOKING)
    chunker = TwoLevelChunker(parent_max_chars=400)
    chunks = chunker.chunk(doc)
    assert_valid(doc, chunks)
    parents = [c for c in chunks if c.level == 0]
    children = [c for c in chunks if c.level == 1]
    assert len(parents) >= 2 and len(children) > len(parents)
    by_id = {p.id: p for p in parents}
    for child in children:
        parent = by_id[child.parent_id]
        assert parent.span[0] <= child.span[0] and child.span[1] <= parent.span[1]
    assert all(p.parent_id is None for p in parents)
    assert all(len(c.text) >= 30 for c in children)  # "Ok." joined to its neighbour
    assert embedding_units(chunks) == children
    vectors = chunker.embed(doc, chunks, embedder)
    assert vectors.shape == (len(children), embedder.dim)


def test_embedding_units_per_document_and_batched_embed(embedder):
    a, b = make_doc(SPACE, path="a"), make_doc(COOKING * 2, path="b")
    fixed = FixedChunker(max_chars=200, overlap_chars=0)
    two = TwoLevelChunker(parent_max_chars=200)
    ca, cb = fixed.chunk(a), two.chunk(b)
    units = embedding_units(ca + cb)
    assert units == ca + [c for c in cb if c.level == 1]
    batched = fixed.embed_many([(a, ca), (b, ca)], embedder)
    assert [v.shape[0] for v in batched] == [len(ca), len(ca)]
    assert np.allclose(batched[0], fixed.embed(a, ca, embedder), atol=1e-5)


def test_make_chunker_by_name(embedder):
    assert isinstance(make_chunker("fixed", max_chars=500), FixedChunker)
    assert isinstance(make_chunker("semantic", embedder), SemanticChunker)
    assert isinstance(make_chunker("late"), LateChunker)
    assert make_chunker("two_level", parent_max_chars=900).name == "two-level"
    with pytest.raises(ValueError, match="needs an embedder"):
        make_chunker("semantic")
    with pytest.raises(ValueError, match="unknown chunker"):
        make_chunker("magic")
    with pytest.raises(ValueError):
        FixedChunker(max_chars=100, overlap_chars=100)
