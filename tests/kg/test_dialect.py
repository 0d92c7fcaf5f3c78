from kgrag.kg.dialect import Backend, falkordb_schema, is_already_exists_error, neo4j_schema
from kgrag.kg.schema import LOOKUP_INDEXES, UNIQUE_KEYS


def test_neo4j_schema_uses_if_not_exists_constraints_and_indexes():
    texts = [step.text for step in neo4j_schema()]
    assert (
        "CREATE CONSTRAINT kgrag_entity_key_unique IF NOT EXISTS "
        "FOR (n:Entity) REQUIRE n.key IS UNIQUE"
    ) in texts
    assert (
        "CREATE INDEX kgrag_document_path_idx IF NOT EXISTS FOR (n:Document) ON (n.path)" in texts
    )
    assert len(texts) == len(UNIQUE_KEYS) + len(LOOKUP_INDEXES)
    assert all("IF NOT EXISTS" in t for t in texts)


def test_falkordb_schema_indexes_before_constraints():
    steps = falkordb_schema("kgrag_x")
    kinds = ["constraint" if s.command else "index" for s in steps]
    assert kinds.index("constraint") > max(i for i, k in enumerate(kinds) if k == "index")
    constraint = next(s for s in steps if s.command)
    assert constraint.command is not None
    assert constraint.command[:3] == ("GRAPH.CONSTRAINT", "CREATE", "kgrag_x")


def test_existing_index_errors_are_recognised_on_falkordb_only():
    assert is_already_exists_error(Backend.FALKORDB, "Attribute 'id' is already indexed")
    assert not is_already_exists_error(Backend.NEO4J, "already exists")
