"""The Neo4j adapter, checked by what it sends (no Neo4j can run here), plus a real
round trip that runs only when NEO4J_URI points at a Neo4j 5 server."""

import os
import re
import uuid
from typing import Any

import pytest

from kgrag.core.types import Chunk, Document
from kgrag.kg import queries as q
from kgrag.kg.neo4j_store import Neo4jStore, database_name


class FakeTx:
    def __init__(self, log: list[tuple[str, dict[str, Any], str]], mode: str):
        self.log, self.mode = log, mode

    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.log.append((query, params, self.mode))
        return []


class FakeSession:
    def __init__(self, log: list, database: str):
        self.log, self.database = log, database

    def __enter__(self) -> "FakeSession":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute_write(self, work):
        return work(FakeTx(self.log, f"write:{self.database}"))

    def execute_read(self, work):
        return work(FakeTx(self.log, f"read:{self.database}"))

    def run(self, query: str):
        self.log.append((query, {}, f"schema:{self.database}"))

        class Result:
            def consume(self) -> None:
                return None

        return Result()


class FakeDriver:
    def __init__(self) -> None:
        self.log: list[tuple[str, dict[str, Any], str]] = []

    def session(self, database: str) -> FakeSession:
        return FakeSession(self.log, database)

    def close(self) -> None:
        return None


def _doc() -> Document:
    return Document("d1", "/x/a.md", "A", "en", "Hello world. Bye.", "sha", {"format": "md"})


def test_workspace_maps_to_database():
    assert database_name("default", "neo4j") == "neo4j"
    assert database_name("bench-1", "neo4j") == "kgrag-bench-1"
    names = {database_name(ws, "neo4j") for ws in ("Foo", "foo", "a_b", "a-b", "A-b")}
    assert len(names) == 5  # no two workspaces share a database
    assert all(re.fullmatch(r"kgrag-[a-z0-9-]+", n) for n in names)


def test_writes_are_parameterised_managed_transactions():
    driver = FakeDriver()
    store = Neo4jStore("bolt://x", "neo4j", "pw", "default", driver=driver)
    chunks = [
        Chunk("d1:0", "d1", 0, "Hello world.", (0, 12)),
        Chunk("d1:1", "d1", 1, "Bye.", (13, 17)),
    ]
    store.upsert_document(_doc(), chunks)
    sent = {query: (params, mode) for query, params, mode in driver.log}
    params, mode = sent[q.UPSERT_CHUNKS]
    assert mode == "write:neo4j"
    assert [r["id"] for r in params["rows"]] == ["d1:0", "d1:1"]
    assert "Hello world." not in q.UPSERT_CHUNKS  # user text travels only as a parameter
    next_params, _ = sent[q.LINK_NEXT]
    assert next_params["rows"] == [{"src": "d1:0", "dst": "d1:1"}]


def test_reads_use_read_transactions_and_schema_uses_neo4j_ddl():
    driver = FakeDriver()
    store = Neo4jStore("bolt://x", "neo4j", "pw", "docs", driver=driver)
    store.documents_by_path("/x/a.md")
    store.ensure_schema()
    modes = {mode for _, _, mode in driver.log}
    assert "read:kgrag-docs" in modes
    schema = [query for query, _, mode in driver.log if mode.startswith("schema")]
    assert schema and all("IF NOT EXISTS" in s for s in schema)


@pytest.mark.neo4j
@pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="needs NEO4J_URI (a Neo4j 5 server)")
def test_round_trip_against_real_neo4j():
    store = Neo4jStore(
        os.environ["NEO4J_URI"],
        os.environ.get("NEO4J_USERNAME", "neo4j"),
        os.environ.get("NEO4J_PASSWORD"),
        "default",
        os.environ.get("NEO4J_DATABASE", "neo4j"),
    )
    doc_id = f"test-{uuid.uuid4().hex}"
    doc = Document(doc_id, f"/tmp/{doc_id}.md", "T", "en", "One. Two.", "sha")
    try:
        store.ensure_schema()
        store.ensure_schema()  # idempotent DDL
        store.upsert_document(doc, [Chunk(f"{doc_id}:0", doc_id, 0, "One.", (0, 4))])
        assert store.document(doc_id) is not None
        store.delete_document(doc_id)
        assert store.document(doc_id) is None
    finally:
        store.delete_document(doc_id)
        store.close()
