"""The local search snapshot follows writes by applying them (`Snapshot.apply`), on real
Qdrant local mode: the result must be the snapshot a full read would give."""

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kgrag.retrievers.local_snapshot import Snapshot
from kgrag.retrievers.vector_index import (
    DENSE,
    KEYWORD,
    UnitRecord,
    VectorIndex,
    close_shared_clients,
)

SAMPLE = Path(__file__).parents[1] / "data" / "hotpot-sample" / "corpus.jsonl"


@pytest.fixture
def index(tmp_path: Path) -> Iterator[VectorIndex]:
    idx = VectorIndex("vs", path=tmp_path / "qdrant")
    idx.ensure(8)
    yield idx
    close_shared_clients(tmp_path / "qdrant")


def _units(prefix: str = "") -> list[UnitRecord]:
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    return [
        UnitRecord(f"{doc}:{i}", f"{doc}:0", doc, part, r["title"], "en")
        for r in rows
        for doc in [prefix + r["id"]]
        for i, part in enumerate(r["text"].split(". ")[:2])
    ]


def _vectors(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)


def _sparse_rows(snap: Snapshot) -> list[dict[int, float]]:
    """Each point's keyword vector as {term index: value}, whatever the column order."""
    assert snap.sparse is not None
    term_of = {col: term for term, col in snap.columns.items()}
    matrix = snap.sparse.tocsr()
    return [
        {
            term_of[int(c)]: float(v)
            for c, v in zip(
                matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]],
                matrix.data[matrix.indptr[i] : matrix.indptr[i + 1]],
            )
        }
        for i in range(len(snap))
    ]


def _frequencies(snap: Snapshot) -> dict[int, float]:
    return {
        t: snap.document_frequency[c] for t, c in snap.columns.items() if snap.document_frequency[c]
    }


def assert_same(ours: Snapshot, full: Snapshot) -> None:
    assert ours.ids.tolist() == full.ids.tolist()
    assert ours.payloads == full.payloads
    np.testing.assert_allclose(ours.dense, full.dense, atol=1e-6)
    if full.sparse is not None:
        assert _sparse_rows(ours) == _sparse_rows(full)
        assert _frequencies(ours) == _frequencies(full)
        assert ours.sparse_points == full.sparse_points


def test_writes_are_applied_to_the_snapshot_not_read_back(
    index: VectorIndex, monkeypatch: pytest.MonkeyPatch
):
    units = _units()
    index.upsert_units(units, _vectors(len(units), 0))
    index.upsert_entities(["curie", "radium"], ["Curie", "radium"], _vectors(2, 1))
    before = index._snapshot(index.chunks, KEYWORD)
    assert before is not None and len(before) == len(units)
    index.search_entities(_vectors(1, 2), 1, 0.0)  # entities published too

    def no_full_read(*args: object) -> Snapshot:
        raise AssertionError("the snapshot was read back from Qdrant")

    monkeypatch.setattr(Snapshot, "load", no_full_read)
    gone = next(u.doc_id for u in units if u.unit_id.endswith(":1"))  # two units
    back = next(u for u in units if u.doc_id == gone)
    with index.batch():
        extra = _units("x")[:5]
        index.upsert_units(extra, _vectors(5, 3))  # new points
        index.upsert_units(units[3:6], _vectors(3, 4))  # the same points, new vectors
        index.delete_document(gone)  # stored points, and none of the new ones
        index.upsert_units([back], _vectors(1, 5))  # one comes back after the delete
        index.upsert_entities(["polonium"], ["polonium"], _vectors(1, 6))
        index.delete_entities(["curie"])
    ours = index._snapshot(index.chunks, KEYWORD)
    entities = index._snapshot(index.entities, None)
    monkeypatch.undo()

    assert ours is not None and entities is not None
    assert len(before) == len(units)  # searches holding the old snapshot keep it whole
    kept = [u for u in units if u.doc_id != gone]
    assert len(ours) == len(kept) + len(extra) + 1
    assert_same(ours, Snapshot.load(index._client, index.chunks, DENSE, KEYWORD))
    assert_same(entities, Snapshot.load(index._client, index.entities, DENSE, None))
    assert index.entity_keys() == {"radium", "polonium"}


def test_a_write_the_snapshot_cannot_follow_makes_it_read_whole(index: VectorIndex):
    """Dropping the collections is not described to the snapshot: the next one is read."""
    units = _units()
    index.upsert_units(units, _vectors(len(units), 0))
    assert len(index.search_dense(_vectors(1, 1)[0], 50)) == len(units)
    index.drop()
    index.ensure(8)
    index.upsert_units(units[:2], _vectors(2, 2))
    assert {h.chunk_id for h in index.search_dense(_vectors(1, 1)[0], 50)} == {
        u.chunk_id for u in units[:2]
    }


def test_consistency_reads_see_a_batch_before_searches_do(index: VectorIndex):
    """`unit_chunks` and `entity_keys` answer with every write so far, inside a write
    batch too, while searches keep the snapshot published before it."""
    first = [UnitRecord("a:0", "a:0", "a", "Marie Curie discovered polonium.", "a", "en")]
    index.upsert_units(first, _vectors(1, 0))
    query = _vectors(1, 0)[0]
    assert [h.chunk_id for h in index.search_dense(query, 5)] == ["a:0"]  # published
    with index.batch():
        index.upsert_units(
            [UnitRecord("b:0", "b:0", "b", "Radium glows.", "b", "en")], _vectors(1, 1)
        )
        index.delete_document("a")
        index.upsert_entities(["radium"], ["radium"], _vectors(1, 2))
        assert index.unit_chunks() == {"b:0": "b"}
        assert index.entity_keys() == {"radium"}
        assert [h.chunk_id for h in index.search_dense(query, 5)] == ["a:0"]
    assert [h.chunk_id for h in index.search_dense(query, 5)] == ["b:0"]


def test_a_snapshot_no_search_reads_waits_for_writes_worth_a_refresh(
    index: VectorIndex, monkeypatch: pytest.MonkeyPatch
):
    """An ingestion that nobody searches meanwhile must not copy the whole snapshot at
    every batch: it is refreshed as batches end only while searches read it, or once the
    writes waiting reach a tenth of it; a search always sees every write."""
    units = _units()
    index.upsert_units(units, _vectors(len(units), 0))
    query = _vectors(1, 9)[0]
    assert len(index.search_dense(query, 100)) == len(units)  # published, and read
    applied: list[int] = []
    original = Snapshot.apply

    def counting(self: Snapshot, changes):  # type: ignore[no-untyped-def]
        applied.append(len(changes))
        return original(self, changes)

    monkeypatch.setattr(Snapshot, "apply", counting)

    def write_one(name: str) -> None:
        with index.batch():
            index.upsert_units(
                [UnitRecord(f"{name}:0", f"{name}:0", name, name, name, "en")], _vectors(1, 3)
            )

    write_one("n1")
    assert applied == [1]  # a search had read it: refreshed as the batch ended
    write_one("n2")
    assert applied == [1]  # nobody has searched since: left to the next search
    found = index.search_dense(query, 100)
    assert applied == [1, 1] and len(found) == len(units) + 2
    assert {"n1:0", "n2:0"} <= {h.chunk_id for h in found}
    write_one("n3")  # read again: refreshed at once
    assert applied == [1, 1, 1]
    below = math.ceil(0.1 * (len(units) + 3)) - 1  # points waiting, under a tenth
    with index.batch():
        index.upsert_units(_units("x")[:below], _vectors(below, 4))
    assert len(applied) == 3  # no search since the last refresh, under a tenth waiting
    with index.batch():
        index.upsert_units(_units("y")[:2], _vectors(2, 5))
    assert len(applied) == 4  # now enough waits to be worth it, searched or not
    assert len(index.search_dense(query, 1000)) == len(units) + 3 + below + 2
