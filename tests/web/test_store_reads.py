"""The graph reads the web page adds, against the session's real FalkorDB server:
documents with their counts, a chunk's neighbours in reading order, the top entities."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kgrag.core.records import DocumentStats
from kgrag.core.types import Chunk, ChunkAnnotations, Document, Entity, Mention
from kgrag.kg.falkordb_store import FalkorDBStore
from kgrag.services import LocalServer

pytestmark = pytest.mark.slow


@pytest.fixture
def store(falkordb_server: LocalServer, workspace: str) -> Iterator[FalkorDBStore]:
    s = FalkorDBStore(falkordb_server.host, falkordb_server.port, workspace)
    s.ensure_schema()
    yield s
    s.drop()
    s.close()


def _write(store: FalkorDBStore, doc_id: str, parts: list[str], names: list[list[str]]) -> None:
    """A document of `parts` (one chunk each), chunk i mentioning the entities names[i]."""
    text = "".join(parts)
    doc = Document(doc_id, f"/data/{doc_id}.md", doc_id.title(), "en", text, f"sha-{doc_id}")
    chunks, start = [], 0
    for i, part in enumerate(parts):
        chunks.append(Chunk(f"{doc_id}:{i}", doc_id, i, part, (start, start + len(part))))
        start += len(part)
    store.upsert_document(doc, chunks)
    annotations = [
        ChunkAnnotations(
            chunk.id,
            entities=[Entity(n.lower(), n, "PERSON", "en") for n in chunk_names],
            mentions=[Mention(chunk.id, n.lower(), (0, 1)) for n in chunk_names],
        )
        for chunk, chunk_names in zip(chunks, names)
    ]
    store.upsert_annotations(doc_id, annotations, hub_threshold=3)
    store.mark_complete(doc_id)


def test_documents_come_with_chunk_and_distinct_entity_counts(store: FalkorDBStore):
    _write(store, "a", ["one. ", "two. ", "three."], [["Ada", "Bob"], ["Ada"], []])
    _write(store, "b", ["alone."], [[]])
    stats = store.document_stats()
    assert [(s.id, s.chunks, s.entities, s.complete) for s in stats] == [
        ("a", 3, 2, True),
        ("b", 1, 0, True),
    ]
    assert isinstance(stats[0], DocumentStats) and stats[0].path == "/data/a.md"
    assert [d.id for d in store.documents()] == [s.id for s in stats]  # same documents


def test_a_chunk_s_neighbours_follow_the_reading_order(store: FalkorDBStore):
    _write(store, "a", ["one. ", "two. ", "three."], [[], [], []])
    assert store.chunk_neighbours("a:0") == (None, "a:1")
    assert store.chunk_neighbours("a:1") == ("a:0", "a:2")
    assert store.chunk_neighbours("a:2") == ("a:1", None)
    assert store.chunk_neighbours("missing:0") == (None, None)


def test_top_entities_rank_by_mentions_and_leave_hubs_out(store: FalkorDBStore):
    names = [["Hub", "Ada"], ["Hub", "Ada"], ["Hub", "Bob"]]  # Hub: 3 mentions, a hub at 3
    _write(store, "a", ["one. ", "two. ", "three."], names)
    top = store.top_entities(10)
    assert [(e.name, e.mention_count) for e in top] == [("Ada", 2), ("Bob", 1)]
    assert [e.key for e in store.top_entities(1)] == ["ada"]
