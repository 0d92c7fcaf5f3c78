"""Every Neo4j 5 / FalkorDB difference lives here; all other Cypher is the common subset.

See ../shared/GRAPH.md for the measured differences. Only schema DDL differs for kgrag's
queries: Neo4j 5 has `IF NOT EXISTS` forms, FalkorDB errors on an existing index and
creates unique constraints through the `GRAPH.CONSTRAINT` command, not Cypher.
"""

from __future__ import annotations

import re
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


# The property that scopes nodes to a workspace in the Neo4j adapter: a plain name.
_SCOPE_PROPERTY = re.compile(r"[a-z][a-z_]*")


def neo4j_schema(scope_property: str | None = None) -> list[SchemaStep]:
    """Constraints and indexes on the model labels. With `scope_property` (the Neo4j
    adapter's workspace property) each key is unique per workspace, `(workspace, key)`,
    lookups are by `(workspace, property)`, and each label has an index on the workspace
    alone (its scans): the same steps for every workspace sharing the database."""
    if scope_property is not None and not _SCOPE_PROPERTY.fullmatch(scope_property):
        raise ValueError(f"scope property {scope_property!r} cannot be formatted into Cypher")
    steps = []
    for label, prop in UNIQUE_KEYS:
        check_label(label)
        if scope_property is None:
            name, keys = _index_name(label, prop, "unique"), f"n.{prop}"
        else:
            name = _index_name(label, f"{scope_property}_{prop}", "unique")
            keys = f"(n.{scope_property}, n.{prop})"
        steps.append(
            SchemaStep(
                f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE {keys} IS UNIQUE"
            )
        )
    lookups: list[tuple[str, tuple[str, ...]]] = [(label, (p,)) for label, p in LOOKUP_INDEXES]
    if scope_property is not None:
        lookups = [(label, (scope_property, *props)) for label, props in lookups]
        lookups += [(label, (scope_property,)) for label, _ in UNIQUE_KEYS]
    for label, props in lookups:
        check_label(label)
        name = _index_name(label, "_".join(props), "idx")
        on = ", ".join(f"n.{p}" for p in props)
        steps.append(SchemaStep(f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON ({on})"))
    return steps


def neo4j_unscoped_schema_drops() -> list[SchemaStep]:
    """Drop the constraints and indexes of `neo4j_schema()` without a scope: where
    workspaces share a database, `Entity.key` unique across it would forbid one entity key
    in two workspaces."""
    steps = [
        SchemaStep(f"DROP CONSTRAINT {_index_name(label, prop, 'unique')} IF EXISTS")
        for label, prop in UNIQUE_KEYS
    ]
    steps += [
        SchemaStep(f"DROP INDEX {_index_name(label, prop, 'idx')} IF EXISTS")
        for label, prop in LOOKUP_INDEXES
    ]
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
