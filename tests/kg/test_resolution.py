"""Entity resolution: triple linking, and entity-name vectors / SAME_AS edges kept in line
with a real FalkorDB graph and a real (local-mode) Qdrant entity index."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kgrag.core.types import Chunk, ChunkAnnotations, Document, Entity, Mention, Triple
from kgrag.kg.falkordb_store import FalkorDBStore
from kgrag.kg.resolution import resolve_entities
from kgrag.kg.triple_links import link_triples
from kgrag.retrievers.entity_index import EntityIndex
from kgrag.retrievers.vector_index import VectorIndex, close_shared_clients

pytestmark = pytest.mark.slow

DIM = 4


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


# Hand-made name vectors: cos(Alpha, Alpha Corp) ~ 0.95, cos(Gamma, Gamma Labs) = 0.70,
# every other pair <= 0.31.
VECTORS: dict[str, np.ndarray] = {
    "Alpha": _unit(1, 0, 0, 0),
    "Alpha Corp": _unit(0.95, 0.312, 0, 0),
    "Beta": _unit(0, 1, 0, 0),
    "Gamma": _unit(0, 0, 1, 0),
    "Gamma Labs": _unit(0, 0, 0.7, 0.714),
}


class FixedEmbed:
    """An embedder mapping names to the vectors above; records every batch it gets."""

    dim = DIM

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    name_threshold = 0.8

    def encode_queries(self, names: list[str]) -> np.ndarray:
        """Names are embedded query-side (see `Embedder.encode_queries`)."""
        self.calls.append(list(names))
        return np.stack([VECTORS[n] for n in names])


def resolve(store: FalkorDBStore, index: VectorIndex, embed=None, **options) -> int:
    return resolve_entities(store, EntityIndex(index, embed or FixedEmbed()), **options)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[VectorIndex]:
    idx = VectorIndex("ws", path=tmp_path / "q")
    yield idx
    close_shared_clients(tmp_path / "q")


def _key(name: str) -> str:
    return name.casefold().replace(" ", "_")


def _add_doc(store: FalkorDBStore, doc_id: str, names: list[str]) -> None:
    text = ", ".join(names) + "."
    doc = Document(doc_id, f"/data/{doc_id}.md", doc_id, "en", text, f"sha-{doc_id}")
    chunk = Chunk(f"{doc_id}:0", doc_id, 0, text, (0, len(text)))
    store.upsert_document(doc, [chunk])
    ents = [Entity(_key(n), n, "ORG", "en") for n in names]
    store.upsert_annotations(
        doc_id,
        [ChunkAnnotations(chunk.id, ents, [Mention(chunk.id, e.key, (0, 1)) for e in ents])],
    )


def _same_as(store: FalkorDBStore) -> dict[tuple[str, str], float]:
    rows = store.run(
        "MATCH (a:Entity)-[s:SAME_AS]->(b:Entity) RETURN a.key AS a, b.key AS b, s.score AS score"
    )
    return {(r["a"], r["b"]): r["score"] for r in rows}


# ---------------------------------------------------------------- link_triples
def _triple(arg0: str | None, arg1: str | None, chunk_id: str = "c1") -> Triple:
    return Triple("p", arg0, arg1, {}, False, chunk_id, f"{arg0} p {arg1}", (0, 1))


def _ents(*names: str) -> list[Entity]:
    return [Entity(_key(n), n, "ORG", "en") for n in names]


def test_link_triples_needs_entities_in_both_arguments():
    ann = ChunkAnnotations(
        "c1",
        entities=_ents("Apple", "Beats", "New York", "New York Times"),
        triples=[
            _triple("Apple", "Beats Electronics"),  # both named: kept
            _triple("the company", "Beats"),  # ARG0 names nothing: dropped
            _triple("APPLE", None),  # no ARG1: dropped
            _triple("Apple", "Apple's shareholders"),  # same entity both sides: dropped
            _triple("a New York Times reporter", "apple"),  # longest name wins, any case
        ],
    )
    linked = [(src, dst, t.arg0) for src, dst, t in link_triples(ann)]
    assert linked == [
        ("apple", "beats", "Apple"),
        ("new_york_times", "apple", "a New York Times reporter"),
    ]


def test_triples_link_only_entities_of_their_own_chunk(store: FalkorDBStore):
    text = "Apple acquired Beats. Apple opened a store in Paris."
    doc = Document("d1", "/data/d1.md", "D1", "en", text, "sha")
    store.upsert_document(
        doc,
        [Chunk("d1:0", "d1", 0, text[:21], (0, 21)), Chunk("d1:1", "d1", 1, text[22:], (22, 52))],
    )
    first = _ents("Apple", "Beats")
    second = _ents("Paris")  # Apple is not annotated in this chunk
    store.upsert_annotations(
        "d1",
        [
            ChunkAnnotations(
                "d1:0",
                first,
                [Mention("d1:0", e.key, (0, 1)) for e in first],
                triples=[_triple("Apple", "Beats", "d1:0")],
            ),
            ChunkAnnotations(
                "d1:1",
                second,
                [Mention("d1:1", e.key, (0, 1)) for e in second],
                triples=[_triple("Apple", "a store in Paris", "d1:1")],
            ),
        ],
    )
    rows = store.run(
        "MATCH (a:Entity)-[r:RELATION]->(b:Entity) "
        "RETURN a.key AS a, b.key AS b, r.chunk_id AS chunk"
    )
    assert rows == [{"a": "apple", "b": "beats", "chunk": "d1:0"}]


def test_entity_names_match_whole_words_only():
    ann = ChunkAnnotations(
        "c1", entities=_ents("Apple", "US"), triples=[_triple("Apple", "its business")]
    )
    assert list(link_triples(ann)) == []


# ---------------------------------------------------------------- resolve_entities
def test_resolution_embeds_unresolved_entities_only(store: FalkorDBStore, index: VectorIndex):
    embed = FixedEmbed()
    _add_doc(store, "d1", ["Alpha", "Beta"])
    assert resolve(store, index, embed) == 2
    assert index.entity_keys() == {"alpha", "beta"}
    assert embed.calls == [["Alpha", "Beta"]]

    assert resolve(store, index, embed) == 0
    assert embed.calls == [["Alpha", "Beta"]]  # nothing embedded again
    assert index.entity_keys() == {"alpha", "beta"}

    _add_doc(store, "d2", ["Beta", "Gamma"])  # Beta already resolved
    assert resolve(store, index, embed) == 1
    assert embed.calls[-1] == ["Gamma"]
    assert index.entity_keys() == {"alpha", "beta", "gamma"}


def test_same_as_above_threshold_only(store: FalkorDBStore, index: VectorIndex):
    _add_doc(store, "d1", ["Alpha", "Beta", "Gamma", "Gamma Labs", "Alpha Corp"])
    assert resolve(store, index) == 5
    edges = _same_as(store)
    assert set(edges) == {("alpha", "alpha_corp")}  # Gamma/Gamma Labs is 0.70 < 0.8
    assert edges[("alpha", "alpha_corp")] == pytest.approx(0.95, abs=0.01)
    assert store.counts()["SAME_AS"] == 1


def test_same_as_links_new_entities_to_existing_ones(store: FalkorDBStore, index: VectorIndex):
    _add_doc(store, "d1", ["Alpha", "Gamma"])
    resolve(store, index, threshold=0.6)
    assert _same_as(store) == {}

    _add_doc(store, "d2", ["Alpha Corp", "Gamma Labs"])
    assert resolve(store, index, threshold=0.6) == 2
    assert set(_same_as(store)) == {("alpha", "alpha_corp"), ("gamma", "gamma_labs")}


def test_interrupted_resolution_is_finished_by_the_next_run(
    store: FalkorDBStore, index: VectorIndex, monkeypatch: pytest.MonkeyPatch
):
    """A crash after the names are indexed but before the SAME_AS edges are written (the
    names already have vectors, so a vector diff would see nothing left to do)."""
    _add_doc(store, "d1", ["Alpha", "Alpha Corp"])

    def crash(pairs: object) -> None:
        raise ConnectionError("graph server went away")

    with monkeypatch.context() as patch:
        patch.setattr(store, "upsert_same_as", crash)
        with pytest.raises(ConnectionError):
            resolve(store, index)
    assert index.entity_keys() == {"alpha", "alpha_corp"} and _same_as(store) == {}
    assert len(store.unresolved_entities()) == 2

    assert resolve(store, index) == 2
    assert set(_same_as(store)) == {("alpha", "alpha_corp")}
    assert store.unresolved_entities() == []


def test_resolution_removes_vectors_of_deleted_entities(store: FalkorDBStore, index: VectorIndex):
    _add_doc(store, "d1", ["Alpha", "Beta"])
    _add_doc(store, "d2", ["Alpha", "Gamma"])
    assert resolve(store, index) == 3
    assert index.entity_keys() == {"alpha", "beta", "gamma"}

    store.delete_document("d1")  # Beta is orphaned; Alpha is still mentioned by d2
    assert store.entity_keys() == {"alpha", "gamma"}
    assert resolve(store, index, prune=False) == 0  # what a run that dropped nothing does
    assert index.entity_keys() == {"alpha", "beta", "gamma"}
    assert resolve(store, index) == 0
    assert index.entity_keys() == {"alpha", "gamma"}
    hits = index.search_entities(np.stack([VECTORS["Beta"]]), k=3, threshold=0.5)
    assert hits == [[]]


def test_real_embedder_links_near_duplicate_names(store: FalkorDBStore, index: VectorIndex):
    from kgrag.extractors.embed import load_embedder

    embedder = load_embedder()
    names = [
        "Barack Obama",
        "President Barack Obama",
        "Marie Curie",
        "Pierre Curie",
        "Albert Einstein",
        "Paris",
    ]
    vectors = embedder.encode(names)
    cos = vectors @ vectors.T
    assert cos[0, 1] > 0.9  # the pair this test relies on sits well above the 0.8 default
    assert cos[2, 3] < 0.75  # two people sharing a surname stay apart

    _add_doc(store, "d1", names)
    assert resolve(store, index, embedder) == len(names)
    edges = _same_as(store)
    assert set(edges) == {("barack_obama", "president_barack_obama")}
    assert edges[("barack_obama", "president_barack_obama")] > 0.8


def test_same_as_edges_do_not_depend_on_the_batching(
    store: FalkorDBStore, index: VectorIndex, monkeypatch: pytest.MonkeyPatch
):
    """Names are all indexed before any is searched. Each of Aone and Atwo is nearest to
    Aone Atwo; resolved two at a time with one neighbour each, Aone must not settle for
    Atwo because Aone Atwo (in the next batch) was not indexed yet."""
    import kgrag.kg.resolution as resolution

    monkeypatch.setattr(resolution, "RESOLVE_BATCH", 2)
    monkeypatch.setitem(VECTORS, "Aone", _unit(1, 0, 0, 0))
    monkeypatch.setitem(VECTORS, "Atwo", _unit(0.5, 0.8, 0.3, 0))  # Aone 0.51, the pair 0.81
    monkeypatch.setitem(VECTORS, "Aone Atwo", _unit(0.9, 0.45, 0, 0))  # Aone 0.89
    _add_doc(store, "d1", ["Aone", "Atwo", "Aone Atwo"])
    assert resolve(store, index, threshold=0.5, neighbours=1) == 3
    assert set(_same_as(store)) == {("aone", "aone_atwo"), ("aone_atwo", "atwo")}
