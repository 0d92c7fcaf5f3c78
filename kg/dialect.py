"""Every Neo4j 5 / FalkorDB difference lives here; all other Cypher is the common subset.

See ../shared/GRAPH.md for the measured differences. Only schema DDL differs for kgrag's
queries: Neo4j 5 has `IF NOT EXISTS` forms, FalkorDB errors on an existing index and
creates unique constraints through the `GRAPH.CONSTRAINT` command, not Cypher.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kgrag.kg.schema import LOOKUP_INDEXES, UNIQUE_KEYS, check_label


class Backend(StrEnum):
    NEO4J = "neo4j"
    FALKORDB = "falkordb"


@dataclass(frozen=True)
class SchemaStep:
    """One schema statement. `command` steps are raw FalkorDB commands, not Cypher."""

    text: str
    command: tuple[str, ...] | None = None


def _index_name(label: str, prop: str, kind: str) -> str:
    return f"kgrag_{label.lower()}_{prop}_{kind}"


def neo4j_schema() -> list[SchemaStep]:
    steps = []
    for label, prop in UNIQUE_KEYS:
        check_label(label)
        name = _index_name(label, prop, "unique")
        steps.append(
            SchemaStep(
                f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
            )
        )
    for label, prop in LOOKUP_INDEXES:
        check_label(label)
        name = _index_name(label, prop, "idx")
        steps.append(SchemaStep(f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"))
    return steps


def falkordb_schema(graph: str) -> list[SchemaStep]:
    """FalkorDB needs an exact-match index before a unique constraint on the same key."""
    steps = []
    for label, prop in (*UNIQUE_KEYS, *LOOKUP_INDEXES):
        check_label(label)
        steps.append(SchemaStep(f"CREATE INDEX FOR (n:{label}) ON (n.{prop})"))
    for label, prop in UNIQUE_KEYS:
        steps.append(
            SchemaStep(
                f"GRAPH.CONSTRAINT CREATE {graph} UNIQUE NODE {label} PROPERTIES 1 {prop}",
                command=(
                    "GRAPH.CONSTRAINT",
                    "CREATE",
                    graph,
                    "UNIQUE",
                    "NODE",
                    label,
                    "PROPERTIES",
                    "1",
                    prop,
                ),
            )
        )
    return steps


def schema_steps(backend: Backend, graph: str) -> list[SchemaStep]:
    if backend is Backend.NEO4J:
        return neo4j_schema()
    return falkordb_schema(graph)


def is_already_exists_error(backend: Backend, message: str) -> bool:
    """FalkorDB has no IF NOT EXISTS: re-running its DDL reports the index/constraint exists."""
    text = message.lower()
    return backend is Backend.FALKORDB and ("already" in text or "exists" in text)
