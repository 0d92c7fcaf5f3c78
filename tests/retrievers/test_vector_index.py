"""VectorIndex on Qdrant local mode (real Qdrant query code) in a temp folder."""

import json
from pathlib import Path

import numpy as np
import pytest
from qdrant_client.models import SparseVector

from kgrag.retrievers import sparse
from kgrag.retrievers.vector_index import UnitRecord, VectorIndex, close_shared_clients

SAMPLE = Path(__file__).parents[1] / "data" / "hotpot-sample" / "corpus.jsonl"


@pytest.fixture
def index(tmp_path):
    idx = VectorIndex("vt", path=tmp_path / "qdrant")
    idx.ensure(4)
    yield idx
    close_shared_clients(tmp_path / "qdrant")


def _unit(uid: str, doc: str, text: str, parent: str | None = None) -> UnitRecord:
    return UnitRecord(uid, parent or uid, doc, text, doc, "en")


def test_dense_keyword_and_delete(index: VectorIndex):
    units = [
        _unit("a:0", "a", "Marie Curie discovered polonium."),
        _unit("a:1", "a", "Radium glows in the dark."),
        _unit("b:0", "b", "屠呦呦发现了青蒿素。"),
    ]
    vectors = np.eye(3, 4, dtype=np.float32)
    index.upsert_units(units, vectors)
    index.upsert_units(units, vectors)  # idempotent: same ids
    assert index.count() == 3

    dense = index.search_dense(np.array([0, 1, 0, 0], dtype=np.float32), 2)
    assert dense[0].chunk_id == "a:1" and dense[0].score == pytest.approx(1.0)
    assert dense[0].source == "dense" and dense[0].doc_id == "a"
    keyword = index.search_keyword("who discovered polonium", 1)[0]
    assert keyword.chunk_id == "a:0" and keyword.source == "keyword"
    assert index.search_keyword("青蒿素", 1)[0].doc_id == "b"

    index.delete_document("a")
    assert index.unit_chunks() == {"b:0": "b"}


def test_child_units_point_at_parent_chunk(index: VectorIndex):
    index.upsert_units(
        [_unit("a:5", "a", "A sentence.", parent="a:0")], np.ones((1, 4), np.float32)
    )
    hit = index.search_dense(np.ones(4, np.float32), 1)[0]
    assert hit.chunk_id == "a:0"


def test_entity_vectors_threshold(index: VectorIndex):
    vecs = np.array([[1, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 0, 1, 0]], dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index.upsert_entities(["curie", "m curie", "radium"], ["Curie", "M. Curie", "radium"], vecs)
    found = index.search_entities(vecs[:1], 3, threshold=0.8)[0]
    assert [k for k, _ in found] == ["curie", "m curie"]
    index.delete_entities(["m curie"])
    assert index.entity_keys() == {"curie", "radium"}


def test_sparse_vectors_are_stable_and_saturating():
    idx1, val1 = sparse.document_vector("radium radium radium polonium")
    idx2, _ = sparse.document_vector("radium radium radium polonium")
    assert idx1 == idx2
    weights = dict(zip(idx1, val1))
    assert weights[sparse.token_index("radium")] > weights[sparse.token_index("polonium")]
    assert weights[sparse.token_index("radium")] < 3 * weights[sparse.token_index("polonium")]
    assert "the" not in sparse.tokenize("the radium")
    assert "青蒿素" in sparse.tokenize("屠呦呦发现了青蒿素")


def test_entity_search_matches_qdrants_own_search(index: VectorIndex):
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(100, 4)).astype(np.float32)  # > 64: the batch path
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    keys = [f"e{i}" for i in range(100)]
    index.upsert_entities(keys, keys, vecs)
    ours = index.search_entities(vecs, 3, threshold=0.5)
    for row, vec, key in zip(ours, vecs, keys):
        theirs = _qdrant_query(index, index.entities, vec.tolist(), "dense", 3, threshold=0.5)
        assert [k for k, _ in row] == [p.payload["key"] for p in theirs]
        assert [s for _, s in row] == pytest.approx([p.score for p in theirs], abs=1e-5)
        assert row[0][0] == key


def _qdrant_query(index, collection, query, using, k, threshold=None):
    """Qdrant local mode's own search, bypassing the snapshot."""
    return index._client.query_points(
        collection, query=query, using=using, limit=k, with_payload=True, score_threshold=threshold
    ).points


def _sample_units() -> list[UnitRecord]:
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    return [_unit(f"{r['id']}:0", r["id"], r["text"]) for r in rows]


def test_snapshot_search_matches_qdrants_own_search_and_follows_writes(index: VectorIndex):
    units = _sample_units()
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(len(units), 4)).astype(np.float32)
    index.upsert_units(units, vectors)
    queries = ["Akkadian spirit demon", "who directed the film", "American football team city"]

    def check() -> None:
        for text in queries:
            indices, values = sparse.query_vector(text)
            theirs = _qdrant_query(
                index, index.chunks, SparseVector(indices=indices, values=values), "keyword", 5
            )
            ours = index.search_keyword(text, 5)
            assert ours, text
            assert [h.score for h in ours] == pytest.approx([p.score for p in theirs], rel=1e-5)
            assert {h.chunk_id for h in ours} == {p.payload["chunk_id"] for p in theirs}
        for vec in vectors[:5]:
            theirs = _qdrant_query(index, index.chunks, vec.tolist(), "dense", 4)
            ours = index.search_dense(vec, 4)
            assert [h.chunk_id for h in ours] == [p.payload["chunk_id"] for p in theirs]
            assert [h.score for h in ours] == pytest.approx([p.score for p in theirs], abs=1e-5)

    check()
    gone = units[0].doc_id
    assert any(h.doc_id == gone for h in index.search_keyword("Akkadian spirit", 20))
    index.delete_document(gone)  # a write: the snapshot must not serve the deleted point
    assert all(h.doc_id != gone for h in index.search_keyword("Akkadian spirit", 20))
    check()  # document frequencies (IDF) follow the delete too


def test_a_write_batch_is_published_whole_at_its_end(index: VectorIndex):
    """Searches during a batch see the snapshot from before it, never half of it, and do
    not wait for a rebuild; the batch's writes show as soon as it ends."""
    first = [_unit("a:0", "a", "Marie Curie discovered polonium.")]
    index.upsert_units(first, np.eye(1, 4, dtype=np.float32))
    query = np.array([0, 1, 0, 0], dtype=np.float32)
    assert [h.chunk_id for h in index.search_dense(query, 5)] == ["a:0"]
    with index.batch():
        index.upsert_units([_unit("b:0", "b", "Radium glows.")], np.eye(1, 4, 1, np.float32))
        index.delete_document("a")
        assert [h.chunk_id for h in index.search_dense(query, 5)] == ["a:0"]  # before
        assert index.search_keyword("radium", 5) == []
    assert [h.chunk_id for h in index.search_dense(query, 5)] == ["b:0"]  # after, at once
    assert [h.chunk_id for h in index.search_keyword("radium", 5)] == ["b:0"]
