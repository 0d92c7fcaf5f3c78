"""The key-information index: the string built from a chunk's annotations, its Qdrant
collection (local snapshot search checked against Qdrant's own), and a real workspace
that keeps it: ingested, searched, re-ingested, reconciled and deleted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kgrag.client import Client
from kgrag.core.errors import ConfigError
from kgrag.core.settings import Settings
from kgrag.core.types import ChunkAnnotations, Document, Entity, Keyphrase, Triple
from kgrag.retrievers.keyinfo import key_information, keyinfo_records
from kgrag.retrievers.vector_index import KeyinfoRecord, VectorIndex, close_shared_clients
from kgrag.runtime import Runtime, drop_runtime, get_runtime


def _triple(
    arg0: str | None,
    predicate: str,
    arg1: str | None,
    args: dict[str, str] | None = None,
    negated: bool = False,
) -> Triple:
    return Triple(predicate, arg0, arg1, args or {}, negated, "d:0", "", (0, 0))


def _annotations() -> ChunkAnnotations:
    return ChunkAnnotations(
        chunk_id="d:0",
        entities=[
            Entity("marie curie", "Marie Curie", "PERSON", "en"),
            Entity("paris", "Paris", "GPE", "en"),
            Entity("marie curie", "Marie  Curie", "TITLE", "en"),  # same name, spaced
        ],
        keyphrases=[Keyphrase("polonium", "polonium", 0.9), Keyphrase("paris", "paris", 0.5)],
        triples=[
            _triple("Marie Curie", "discover", "polonium", args={"ARGM-TMP": "in 1898"}),
            _triple(None, "isolate", "radium"),
            _triple("She", "win", "the prize", negated=True),
            _triple("Marie Curie", "discover", "polonium", args={"ARGM-TMP": "in 1898"}),
        ],
    )


def test_key_information_lists_names_phrases_and_triples_once():
    assert key_information(_annotations()) == (
        "Marie Curie; Paris\n"
        "polonium\n"  # "paris" is already named
        "Marie Curie discover polonium in 1898; isolate radium; She not win the prize"
    )


def test_chinese_triples_are_written_without_spaces():
    ann = ChunkAnnotations(
        "z:0",
        entities=[Entity("屠呦呦", "屠呦呦", "PERSON", "zh")],
        triples=[
            Triple("发现", "屠呦呦", "青蒿素", {}, False, "z:0", "", (0, 0)),
            Triple("放弃", "她", "研究", {}, True, "z:0", "", (0, 0)),
        ],
    )
    assert key_information(ann, "zh") == "屠呦呦\n屠呦呦发现青蒿素; 她不放弃研究"


def test_a_chunk_without_key_information_gets_no_point():
    doc = Document("d", "/d.txt", "d", "en", "text", "sha")
    records = keyinfo_records(doc, [ChunkAnnotations("d:0"), _annotations()])
    assert [(r.chunk_id, r.doc_id, r.lang) for r in records] == [("d:0", "d", "en")]
    assert records[0].text == key_information(_annotations())


# ---------------------------------------------------------------- the collection
@pytest.fixture
def index(tmp_path: Path) -> Iterator[VectorIndex]:
    idx = VectorIndex("ki", path=tmp_path / "qdrant")
    idx.ensure(4, keyinfo=True)
    yield idx
    close_shared_clients(tmp_path / "qdrant")


def test_keyinfo_search_matches_qdrants_own_and_follows_deletes(index: VectorIndex):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30, 4)).astype(np.float32)
    records = [KeyinfoRecord(f"d{i % 5}:{i}", f"d{i % 5}", f"info {i}", "en") for i in range(30)]
    index.upsert_keyinfo(records, vectors)
    index.upsert_keyinfo(records, vectors)  # idempotent: one point per chunk
    assert len(index.keyinfo_chunks()) == 30
    for vec in vectors[:5]:
        ours = index.search_keyinfo(vec, 4)
        theirs = index._client.query_points(
            index.keyinfo, query=vec.tolist(), using="dense", limit=4, with_payload=True
        ).points
        assert [h.chunk_id for h in ours] == [p.payload["chunk_id"] for p in theirs]
        assert [h.score for h in ours] == pytest.approx([p.score for p in theirs], abs=1e-5)
        assert all(h.source == "keyinfo" for h in ours)

    index.delete_document("d0")
    assert "d0" not in set(index.keyinfo_chunks().values())
    assert all(h.doc_id != "d0" for h in index.search_keyinfo(vectors[0], 30))
    index.drop()
    assert index.search_keyinfo(vectors[0], 3) == [] and index.keyinfo_chunks() == {}


def test_no_keyinfo_collection_unless_asked(tmp_path: Path):
    idx = VectorIndex("plain", path=tmp_path / "qdrant")
    try:
        idx.ensure(4)
        assert not idx._client.collection_exists(idx.keyinfo)
        assert idx.search_keyinfo(np.ones(4, np.float32), 3) == []
    finally:
        close_shared_clients(tmp_path / "qdrant")


# ---------------------------------------------------------------- a real workspace
CURIE = "Marie Curie discovered polonium in Paris. Pierre Curie taught physics at the Sorbonne."
TU = "Tu Youyou extracted artemisinin from sweet wormwood in Beijing to treat malaria."


def _ingest(rt: Runtime, folder: Path) -> int:
    docs, failures = rt.indexer.parse(sorted(folder.iterdir()))
    assert not failures
    stats = rt.indexer.write(rt.indexer.prepare(docs))
    rt.indexer.resolve()
    return stats.indexed


@pytest.mark.slow
def test_a_workspace_with_the_index_finds_deletes_and_reconciles_keyinfo(
    settings: Settings, workspace: str, tmp_path: Path
):
    keyinfo_settings = settings.model_copy(update={"keyinfo_index": True})
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "curie.txt").write_text(CURIE, encoding="utf-8")
    (folder / "tu.txt").write_text(TU, encoding="utf-8")
    rt = get_runtime(keyinfo_settings, workspace, create=True)
    try:
        assert rt.config.keyinfo_index
        assert _ingest(rt, folder) == 2
        stored = rt.vectors.keyinfo_chunks()
        assert stored and set(stored) == set(rt.vectors.unit_chunks())

        # "discover" is a word of the chunk's key information (the triple's lemma), not
        # of its raw text ("discovered"): the key-information level matches it.
        client = Client(workspace=workspace, settings=keyinfo_settings)
        hits = client.retrieve("Marie Curie discover polonium", k=2, mode="keyinfo")
        assert hits[0].path.endswith("curie.txt") and hits[0].source == "keyinfo"
        assert "discover" not in re.findall(r"\w+", hits[0].text.lower())
        assert hits[0].chunk_id in stored
        assert client.doctor().consistent  # the checks read past the extra collection

        assert _ingest(rt, folder) == 0  # unchanged: nothing rewritten, nothing added
        assert rt.vectors.keyinfo_chunks() == stored

        # A point whose document never reached the graph (a crash) is reconciled away.
        orphan = KeyinfoRecord("gone:0", "gone", "Nobody", "en")
        rt.vectors.upsert_keyinfo([orphan], rt.embedder.encode(["Nobody"]))
        assert rt.indexer.reconcile() == 1
        assert rt.vectors.keyinfo_chunks() == stored

        curie_doc = hits[0].doc_id
        assert rt.indexer.targets(str(folder / "curie.txt")) == [curie_doc]
        rt.indexer.delete([curie_doc])
        assert curie_doc not in set(rt.vectors.keyinfo_chunks().values())
        assert rt.vectors.keyinfo_chunks()
        left = client.retrieve("Marie Curie discover polonium", k=2, mode="keyinfo")
        assert [h.path for h in left] == [str(folder / "tu.txt")]
    finally:
        Client(workspace=workspace, settings=keyinfo_settings).reset()
        drop_runtime(keyinfo_settings, workspace)


@pytest.mark.slow
def test_a_workspace_without_the_index_writes_no_keyinfo(
    settings: Settings, workspace: str, tmp_path: Path
):
    plain = settings.model_copy(update={"keyinfo_index": False})
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "tu.txt").write_text(TU, encoding="utf-8")
    rt = get_runtime(plain, workspace, create=True)
    try:
        assert _ingest(rt, folder) == 1
        assert rt.vectors.keyinfo_chunks() == {}
        client = Client(workspace=workspace, settings=plain)
        with pytest.raises(ConfigError, match=r"no key-information index.*KGRAG_KEYINFO_INDEX"):
            client.retrieve("Tu Youyou", k=2, mode="keyinfo")
        assert client.retrieve("Tu Youyou", k=2, mode="fused")  # fused does not need it
    finally:
        Client(workspace=workspace, settings=plain).reset()
        drop_runtime(plain, workspace)
