"""Neo4j 5 adapter over the official driver (Bolt), for production.

A workspace maps to a database: `default` uses the configured database (`NEO4J_DATABASE`,
default `neo4j`); any other workspace uses a database of its own name, which needs Neo4j
Enterprise (or set NEO4J_DATABASE per workspace). Writes go through managed transactions
(`execute_write`), which the driver retries on transient errors.
"""

from __future__ import annotations

import re
from typing import Any

from kgrag.core.ids import stable_hash
from kgrag.kg.dialect import Backend, SchemaStep
from kgrag.kg.store import GraphStore, Row


def database_name(workspace: str, default_database: str) -> str:
    """Neo4j folds database names to lowercase and allows only letters, digits, dots and
    dashes, so a workspace name outside that (`Foo`, `a_b`) gets a short hash of itself
    appended: `Foo` and `foo` must not share a database."""
    if workspace == "default":
        return default_database
    name = f"kgrag-{workspace.lower().replace('_', '-')}"
    if re.fullmatch(r"[a-z0-9-]+", workspace):
        return name
    return f"{name}-{stable_hash(workspace, length=8)}"


def _is_write(query: str) -> bool:
    text = query.upper()
    return any(word in text for word in ("MERGE", "CREATE", "DELETE", "SET ", "REMOVE"))


class Neo4jStore(GraphStore):
    backend = Backend.NEO4J

    def __init__(
        self,
        uri: str,
        username: str,
        password: str | None,
        workspace: str,
        default_database: str = "neo4j",
        driver: Any | None = None,
    ):
        if driver is None:
            from neo4j import GraphDatabase

            driver = GraphDatabase.driver(uri, auth=(username, password or ""))
        self._driver = driver
        self.graph_name = database_name(workspace, default_database)

    def run(self, query: str, params: dict[str, Any] | None = None) -> list[Row]:
        def work(tx: Any) -> list[Row]:
            return [dict(record) for record in tx.run(query, params or {})]

        with self._driver.session(database=self.graph_name) as session:
            if _is_write(query):
                return list(session.execute_write(work))
            return list(session.execute_read(work))

    def _apply_schema_step(self, step: SchemaStep) -> None:
        with self._driver.session(database=self.graph_name) as session:
            session.run(step.text).consume()

    def close(self) -> None:
        self._driver.close()
