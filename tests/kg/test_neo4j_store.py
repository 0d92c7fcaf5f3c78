"""The Neo4j adapter, checked by what it sends (no Neo4j can run here), plus real round
trips that run only when NEO4J_URI points at a Neo4j 5 server (Community is enough).

Workspaces share one database: every node pattern sent matches on `workspace`, given as
the parameter `$kgrag_workspace` (see kg/neo4j_store.py)."""

import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgrag.core.errors import ConfigError
from kgrag.core.settings import WORKSPACE_PATTERN
from kgrag.core.types import Chunk, ChunkAnnotations, Document, Entity, Keyphrase, Mention
from kgrag.kg import queries as q
from kgrag.kg.export import render_graph
from kgrag.kg.neo4j_store import Neo4jStore, WorkspaceScope, database_name, valid_workspace
from kgrag.kg.schema import LABELS, UNIQUE_KEYS


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


def _chunks() -> list[Chunk]:
    return [
        Chunk("d1:0", "d1", 0, "Hello world.", (0, 12)),
        Chunk("d1:1", "d1", 1, "Bye.", (13, 17)),
    ]


def _store(workspace: str, **kwargs: Any) -> tuple[Neo4jStore, FakeDriver]:
    driver = FakeDriver()
    return Neo4jStore("bolt://x", "neo4j", "pw", workspace, driver=driver, **kwargs), driver


def _all_statements() -> dict[str, str]:
    """Every statement of kg/queries.py, by name."""
    found: dict[str, str] = {}
    for name, value in vars(q).items():
        if name.startswith("_"):
            continue
        if isinstance(value, str):
            found[name] = value
        elif isinstance(value, dict):
            found.update({f"{name}[{k}]": v for k, v in value.items() if isinstance(v, str)})
    return found


# A node pattern as the checker sees it: parentheses not opened by a function name.
_NODE = re.compile(r"(?<![\w`])\(([^()]*)\)")
SCOPE = "workspace: $kgrag_workspace"


def _unscoped_nodes(statement: str) -> list[str]:
    """Node patterns of `statement` that could reach another workspace's nodes: those that
    do not match on the workspace parameter, unless they are a variable bound by a scoped
    pattern before (an independent reading of the rule)."""
    bound: set[str] = set()
    wrong = []
    for body in _NODE.findall(statement):
        head, _, props = body.partition("{")
        var, _, labels = head.partition(":")
        var = var.strip()
        if not re.fullmatch(r"[A-Za-z_]\w*|", var):
            continue  # an expression in parentheses, not a node
        names = {n.strip() for n in labels.split("|")} - {""}
        if names and names <= LABELS and SCOPE in props:
            if len(names) > 1 and names != LABELS:
                wrong.append(body)  # a label expression that leaves some of kgrag's out
        elif names or props or var not in bound:
            wrong.append(body or "()")
        if var:
            bound.add(var)
    return wrong


# ---------------------------------------------------------------- workspace names
@pytest.mark.parametrize(
    "workspace",
    ["", "a`b", "a b", "a:b", "a)b", "a{b", "a|b", "a.b", "_a", "-a", "é", "x" * 64, "notes\n"],
)
def test_an_invalid_workspace_name_is_refused_before_connecting(workspace: str):
    with pytest.raises(ConfigError):
        valid_workspace(workspace)
    with pytest.raises(ConfigError):
        Neo4jStore("bolt://x", "neo4j", "pw", workspace, driver=None)  # no driver is made


@given(st.from_regex(WORKSPACE_PATTERN, fullmatch=True))
def test_every_valid_workspace_is_accepted(workspace: str):
    assert valid_workspace(workspace) == workspace


@given(st.text(max_size=70).filter(lambda s: not WORKSPACE_PATTERN.fullmatch(s)))
def test_every_invalid_workspace_is_refused(workspace: str):
    with pytest.raises(ConfigError):
        valid_workspace(workspace)


# ---------------------------------------------------------------- statements
def test_every_statement_is_scoped_to_the_workspace():
    scope = WorkspaceScope("notes")
    statements = _all_statements()
    assert len(statements) > 40
    for name, statement in statements.items():
        scoped = scope.statement(statement)
        assert _unscoped_nodes(scoped) == [], name
        assert _unscoped_nodes(statement), name  # the checker does see unscoped ones
        # values travel as parameters: the statement's own, plus the workspace
        before, after = set(re.findall(r"\$\w+", statement)), set(re.findall(r"\$\w+", scoped))
        assert after == before | {"$kgrag_workspace"}, name
        assert not re.search(r":\w+:", scoped), name  # no `:A:B` (Neo4j 5 refuses it beside `|`)


def test_statements_before_and_after():
    scope = WorkspaceScope("notes")
    assert scope.statement(q.UPSERT_CHUNKS) == (
        "\nUNWIND $rows AS r\n"
        "MATCH (d:Document {id: r.doc_id, workspace: $kgrag_workspace})\n"
        "MERGE (c:Chunk {id: r.id, workspace: $kgrag_workspace})\n"
        "SET c.doc_id = r.doc_id, c.idx = r.idx, c.text = r.text, c.level = r.level,\n"
        "    c.span_start = r.span_start, c.span_end = r.span_end\n"
        "MERGE (d)-[:HAS_CHUNK]->(c)\n"
    )
    assert scope.statement(q.DELETE_ALL) == (
        "MATCH (n:Chunk|Document|Entity|Keyphrase {workspace: $kgrag_workspace}) DETACH DELETE n"
    )
    assert scope.statement(q.REFRESH_MENTION_COUNTS).splitlines()[3] == (
        "WITH e, size([(e)<-[:MENTIONS]-(:Chunk {workspace: $kgrag_workspace}) | 1]) AS n"
    )


def test_export_matches_the_workspace_nodes_and_edges_only():
    scope = WorkspaceScope("notes")
    nodes = scope.statement(q.EXPORT_NODES)
    assert nodes.startswith(
        "\nMATCH (n:Chunk|Document|Entity|Keyphrase {workspace: $kgrag_workspace})\n"
    )
    edges = scope.statement(q.EXPORT_EDGES)
    assert edges.count("Chunk|Document|Entity|Keyphrase {workspace: $kgrag_workspace}") == 2


@pytest.mark.parametrize(
    "statement",
    [
        "MERGE (n {key: $key})",  # would create a node no workspace owns
        "CREATE (n)",
        "MATCH (n:Person) RETURN n",  # not a model label
        "MATCH (n:Entity:Chunk) RETURN n",
        "MATCH (n {key: 'x'}) RETURN n",  # a literal: kgrag's values are parameters
        "MATCH (n) // comment\nRETURN n",
        "MATCH (n:Entity {key: $key}) SET n = $props",  # would drop the workspace
        "MATCH (n:Entity {key: $key}) SET n.x = 1, n += $props",
        "MATCH (n:Entity {key: $key}) REMOVE n.workspace",
        "MATCH (n:Entity {workspace: $other}) RETURN n",
        "MATCH (n:Entity) WHERE n.key = $kgrag_workspace RETURN n",
    ],
)
def test_a_statement_the_scoping_does_not_understand_is_refused(statement: str):
    with pytest.raises(ValueError):
        WorkspaceScope("notes").statement(statement)


def test_the_workspace_parameter_is_the_adapter_s_own():
    store, _ = _store("notes")
    with pytest.raises(ValueError):
        store.run(q.ENTITY_KEYS, {"kgrag_workspace": "other"})


# ---------------------------------------------------------------- what the store sends
def test_writes_are_parameterised_managed_transactions():
    store, driver = _store("default")
    store.upsert_document(_doc(), _chunks())
    sent = {query: (params, mode) for query, params, mode in driver.log}
    params, mode = sent[WorkspaceScope("default").statement(q.UPSERT_CHUNKS)]
    assert mode == "write:neo4j"
    assert [r["id"] for r in params["rows"]] == ["d1:0", "d1:1"]
    assert params["kgrag_workspace"] == "default"
    assert "Hello world." not in q.UPSERT_CHUNKS  # user text travels only as a parameter
    next_params, _ = sent[WorkspaceScope("default").statement(q.LINK_NEXT)]
    assert next_params["rows"] == [{"src": "d1:0", "dst": "d1:1"}]


def test_every_workspace_uses_the_configured_database():
    for workspace in ("default", "notes", "Foo"):
        store, driver = _store(workspace, default_database="graphs")
        store.documents_by_path("/x/a.md")
        store.clear()
        assert store.graph_name == "graphs"
        assert [mode for _, _, mode in driver.log] == ["read:graphs", "write:graphs"]


def test_everything_the_store_sends_is_scoped():
    workspace = "Ws-q7_Z"  # appears in no statement: it travels as a parameter
    store, driver = _store(workspace)
    store.upsert_document(_doc(), _chunks())
    annotations = [
        ChunkAnnotations(
            "d1:0",
            entities=[Entity("world", "World", "LOC", "en")],
            mentions=[Mention("d1:0", "world", (6, 11))],
            keyphrases=[Keyphrase("world", "world", 0.9)],
        )
    ]
    store.upsert_annotations("d1", annotations)
    store.upsert_same_as([("world", "earth", 0.9)])
    store.mark_resolved(["world"])
    store.mark_complete("d1")
    store.documents()
    store.chunks(["d1:0"])
    store.entities(["world"])
    store.entity_keys_of_chunks(["d1:0"])
    store.unresolved_entities()
    store.counts()
    render_graph(store, "json")
    store.delete_document("d1")
    store.clear()
    assert len(driver.log) > 30
    for query, params, _ in driver.log:
        assert _unscoped_nodes(query) == [], query
        assert params["kgrag_workspace"] == workspace
        assert workspace not in query


def test_clear_deletes_only_the_workspace_nodes():
    store, driver = _store("notes")
    store.clear()
    [(query, params, mode)] = driver.log
    assert query == (
        "MATCH (n:Chunk|Document|Entity|Keyphrase {workspace: $kgrag_workspace}) DETACH DELETE n"
    )
    assert params == {"kgrag_workspace": "notes"} and mode == "write:neo4j"


def test_reads_use_read_transactions():
    store, driver = _store("notes")
    store.documents_by_path("/x/a.md")
    store.entity_keys()
    assert {mode for _, _, mode in driver.log} == {"read:neo4j"}


# ---------------------------------------------------------------- schema
def _schema(workspace: str) -> list[str]:
    store, driver = _store(workspace)
    store.ensure_schema()
    assert all(mode == "schema:neo4j" for _, _, mode in driver.log)
    return [query for query, _, _ in driver.log]


def test_keys_are_unique_per_workspace():
    steps = _schema("notes")
    creates = [s for s in steps if s.startswith("CREATE")]
    assert all("IF NOT EXISTS" in s for s in creates)
    for label, prop in UNIQUE_KEYS:
        assert (
            f"CREATE CONSTRAINT kgrag_{label.lower()}_workspace_{prop}_unique IF NOT EXISTS "
            f"FOR (n:{label}) REQUIRE (n.workspace, n.{prop}) IS UNIQUE"
        ) in creates
        assert f"FOR (n:{label}) ON (n.workspace)" in " ".join(creates)  # its scans
    assert "FOR (n:Document) ON (n.workspace, n.path)" in " ".join(creates)
    assert "FOR (n:Chunk) ON (n.workspace, n.doc_id)" in " ".join(creates)
    # no key unique across the database: one entity key must exist in two workspaces
    assert not any(re.search(r"REQUIRE n\.\w+ IS UNIQUE", s) for s in steps)


def test_two_workspaces_schema_steps_are_the_same_steps():
    """One shared, idempotent set: nothing per workspace that could collide."""
    assert _schema("notes") == _schema("docs") == _schema("Foo")
    names = [s.split()[2] for s in _schema("notes") if s.startswith("CREATE")]
    assert len(names) == len(set(names))


def test_the_old_database_wide_constraints_are_dropped_first():
    steps = _schema("notes")
    drops = [s for s in steps if s.startswith("DROP")]
    assert "DROP CONSTRAINT kgrag_entity_key_unique IF EXISTS" in drops
    assert "DROP INDEX kgrag_document_path_idx IF EXISTS" in drops
    assert max(steps.index(s) for s in drops) < min(
        steps.index(s) for s in steps if s.startswith("CREATE")
    )
    created = {s.split()[2] for s in steps if s.startswith("CREATE")}
    assert not created & {s.split()[2] for s in drops}


# ---------------------------------------------------------------- a database per workspace
def test_workspace_maps_to_database():
    assert database_name("default", "neo4j") == "neo4j"
    assert database_name("bench-1", "neo4j") == "kgrag-bench-1"
    names = {database_name(ws, "neo4j") for ws in ("Foo", "foo", "a_b", "a-b", "A-b")}
    assert len(names) == 5  # no two workspaces share a database
    assert all(re.fullmatch(r"kgrag-[a-z0-9-]+", n) for n in names)


def test_database_per_workspace_sends_the_statements_as_written():
    store, driver = _store("docs", workspace_databases=True)
    store.documents_by_path("/x/a.md")
    store.clear()
    store.ensure_schema()
    assert driver.log[0] == (q.DOCUMENTS_BY_PATH, {"path": "/x/a.md"}, "read:kgrag-docs")
    assert driver.log[1] == (q.DELETE_ALL, {}, "write:kgrag-docs")  # its own database
    schema = [query for query, _, mode in driver.log if mode.startswith("schema")]
    assert schema and all("IF NOT EXISTS" in s for s in schema)
    assert "FOR (n:Entity) REQUIRE n.key IS UNIQUE" in " ".join(schema)


def test_the_setting_reaches_the_store(monkeypatch: pytest.MonkeyPatch):
    from kgrag.core.settings import load_settings

    monkeypatch.setenv("KGRAG_NEO4J_WORKSPACE_DATABASES", "true")
    assert load_settings().neo4j_workspace_databases is True
    monkeypatch.delenv("KGRAG_NEO4J_WORKSPACE_DATABASES")
    assert load_settings().neo4j_workspace_databases is False


# ---------------------------------------------------------------- a real Neo4j
def _real_store(workspace: str) -> Neo4jStore:
    return Neo4jStore(
        os.environ["NEO4J_URI"],
        os.environ.get("NEO4J_USERNAME", "neo4j"),
        os.environ.get("NEO4J_PASSWORD"),
        workspace,
        os.environ.get("NEO4J_DATABASE", "neo4j"),
    )


@pytest.fixture
def real_stores() -> Iterator[tuple[Neo4jStore, Neo4jStore]]:
    """Two fresh workspaces in the one configured database, cleared after."""
    tag = uuid.uuid4().hex[:8]
    a, b = _real_store(f"t{tag}-a"), _real_store(f"T{tag}_b")
    try:
        yield a, b
    finally:
        for store in (a, b):
            store.clear()
            store.close()


def _annotations(chunk_id: str) -> list[ChunkAnnotations]:
    return [
        ChunkAnnotations(
            chunk_id,
            entities=[Entity("marie curie", "Marie Curie", "PERSON", "en")],
            mentions=[Mention(chunk_id, "marie curie", (0, 11))],
            keyphrases=[Keyphrase("marie curie", "Marie Curie", 0.9)],  # same key as the entity
        )
    ]


@pytest.mark.neo4j
@pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="needs NEO4J_URI (a Neo4j 5 server)")
def test_round_trip_against_real_neo4j(real_stores: tuple[Neo4jStore, Neo4jStore]):
    store, _ = real_stores
    doc_id = f"test-{uuid.uuid4().hex}"
    doc = Document(doc_id, f"/tmp/{doc_id}.md", "T", "en", "One. Two.", "sha")
    store.ensure_schema()
    store.ensure_schema()  # idempotent DDL
    store.upsert_document(doc, [Chunk(f"{doc_id}:0", doc_id, 0, "One.", (0, 4))])
    store.upsert_annotations(doc_id, _annotations(f"{doc_id}:0"))
    assert store.document(doc_id) is not None
    assert store.entity_keys() == {"marie curie"}
    store.delete_document(doc_id)
    assert store.document(doc_id) is None
    assert store.entity_keys() == set()


@pytest.mark.neo4j
@pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="needs NEO4J_URI (a Neo4j 5 server)")
def test_two_workspaces_share_a_database_without_sharing_nodes(
    real_stores: tuple[Neo4jStore, Neo4jStore],
):
    a, b = real_stores
    for store in (a, b):
        store.ensure_schema()
        # the same document id, chunk id and entity key in both: no constraint fires
        store.upsert_document(_doc(), _chunks())
        store.upsert_annotations("d1", _annotations("d1:0"))
        store.mark_complete("d1")
    for store in (a, b):
        assert [d.id for d in store.documents()] == ["d1"]
        assert store.entity_keys() == {"marie curie"}
        counts = store.counts()
        assert (counts["Document"], counts["Chunk"], counts["Entity"]) == (1, 2, 1)
        assert counts["MENTIONS"] == 1
    text, sizes = render_graph(a, "json")
    assert sizes["nodes"] == 5  # document, two chunks, entity, keyphrase: a's own
    assert sizes["edges"] == 5  # HAS_CHUNK x2, NEXT, MENTIONS, HAS_KEYPHRASE
    assert f'"workspace": "{a.workspace}"' in text and b.workspace not in text
    a.clear()
    assert a.documents() == [] and a.entity_keys() == set()
    assert [d.id for d in b.documents()] == ["d1"]  # b untouched by a's clear
    assert b.entity_keys() == {"marie curie"}
    with pytest.raises(Exception, match="already exists"):  # b's own constraint holds
        b.run("CREATE (:Entity {key: $key})", {"key": "marie curie"})
