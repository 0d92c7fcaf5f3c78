"""Neo4j 5 adapter over the official driver (Bolt), for production.

Workspaces share one database (`NEO4J_DATABASE`, default `neo4j`), so every workspace
works on Neo4j Community. Each node kgrag writes carries a `workspace` property, and
every node pattern kgrag sends matches on it: `(c:Chunk {id: id})` is sent as
`(c:Chunk {id: id, workspace: $kgrag_workspace})`, with the workspace as a parameter.

Why a property and not a label per workspace: the workspace never has to be formatted
into Cypher (labels cannot be parameters; properties can), the schema is one set of steps
that every workspace shares instead of six objects per workspace, and Neo4j Browser keeps
showing and styling the model labels alone (it gives every label it lists a style of its
own, which overrides kgrag.grass on nodes that carry a second, per-workspace label).
Uniqueness is per workspace through composite constraints, `(workspace, key)`, which
Community supports: the same entity key exists once in each workspace. Lookups go through
composite `(workspace, property)` indexes, scans through an index on `workspace` per label.
Relationships need no scope: each joins two nodes of the same workspace.

The statements stay those of kg/queries.py, shared with FalkorDB; `WorkspaceScope`
rewrites each one once. A node pattern with a model label gets the workspace in its
property map; an unlabelled one that is not a variable bound earlier gets the model
labels as a label expression and the workspace (`MATCH (n) DETACH DELETE n`, `clear()`,
becomes `MATCH (n:Chunk|Document|Entity|Keyphrase {workspace: $kgrag_workspace}) DETACH
DELETE n`), so deletes, counts and the export touch this workspace's nodes only. The
rewrite fails closed: a statement with a literal or comment, an unknown label, two labels
on one node, an unlabelled node it would MERGE or CREATE, a whole-node `SET n = ...` /
`SET n += ...` (which could drop the property), or any mention of `workspace` itself is
refused (ValueError), so a new statement the scoping does not understand fails the unit
tests instead of leaking across workspaces. What the rewrite formats in is fixed text and
model labels from kg/schema.py; the workspace name is validated (`valid_workspace`)
before the store is made and reaches Neo4j only as a parameter value.

Schema: the shared steps of `neo4j_schema("workspace")`, after dropping the unscoped
constraints of earlier versions (`Entity.key` unique across the database would forbid one
key in two workspaces). Nodes written before workspaces shared a database have no
`workspace`: docs/exploring-the-graph.md has the one statement that puts them in `default`.

`KGRAG_NEO4J_WORKSPACE_DATABASES=true` (Neo4j Enterprise) keeps the earlier layout: a
database per workspace (`default` uses NEO4J_DATABASE, others `kgrag-<name>`), statements
and schema unscoped.

Writes go through managed transactions (`execute_write`), which the driver retries on
transient errors.
"""

from __future__ import annotations

import re
from typing import Any

from kgrag.core.errors import ConfigError
from kgrag.core.ids import stable_hash
from kgrag.core.settings import WORKSPACE_PATTERN, check_workspace
from kgrag.kg.dialect import Backend, SchemaStep, neo4j_schema, neo4j_unscoped_schema_drops
from kgrag.kg.schema import LABELS, check_label
from kgrag.kg.store import GraphStore, Row

SCOPE_PROPERTY = "workspace"
SCOPE_PARAMETER = "kgrag_workspace"
_SCOPE = f"{SCOPE_PROPERTY}: ${SCOPE_PARAMETER}"
_ANY_LABEL = "|".join(sorted(LABELS))


def valid_workspace(workspace: str) -> str:
    """The workspace name, or ConfigError: `[A-Za-z0-9][A-Za-z0-9_-]`, at most 63, the
    whole string (a `$` anchor alone would let a trailing newline through)."""
    check_workspace(workspace)
    if not WORKSPACE_PATTERN.fullmatch(workspace):
        raise ConfigError(f"invalid workspace name {workspace!r}")
    return workspace


def database_name(workspace: str, default_database: str) -> str:
    """The database of a workspace when each has its own (Enterprise). Neo4j folds
    database names to lowercase and allows only letters, digits, dots and dashes, so a
    workspace name outside that (`Foo`, `a_b`) gets a short hash of itself appended: `Foo`
    and `foo` must not share a database."""
    if workspace == "default":
        return default_database
    name = f"kgrag-{workspace.lower().replace('_', '-')}"
    if re.fullmatch(r"[a-z0-9-]+", workspace):
        return name
    return f"{name}-{stable_hash(workspace, length=8)}"


# A node pattern: `(`, optional variable, optional `:Label`s, optional property map, `)`.
# Not preceded by a name character, so `count(n)` and `labels(n)` are calls, not nodes.
_NODE = re.compile(
    r"(?<![\w`])\(\s*"
    r"(?P<var>[A-Za-z_][A-Za-z0-9_]*)?\s*"
    r"(?P<labels>(?::\s*[A-Za-z_][A-Za-z0-9_]*\s*)*)"
    r"(?P<props>\{[^{}]*\})?\s*\)"
)
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLAUSE = re.compile(
    r"\b(MATCH|MERGE|CREATE|WITH|WHERE|RETURN|UNWIND|SET|DELETE|REMOVE|FOREACH|CALL)\b",
    re.IGNORECASE,
)
_NOT_SCOPABLE = {
    "a literal or comment": re.compile(r"['\"`]|//|/\*"),
    "the scope property": re.compile(rf"\b({SCOPE_PROPERTY}|{SCOPE_PARAMETER})\b", re.I),
    "a whole-node assignment": re.compile(r"(?:\bSET\b|,)\s*[A-Za-z_]\w*\s*\+?=(?!=)", re.I),
}


class WorkspaceScope:
    """Rewrites kgrag's statements so they create and match one workspace's nodes only;
    the workspace itself travels as the parameter `$kgrag_workspace`."""

    def __init__(self, workspace: str):
        self.workspace = valid_workspace(workspace)
        self._cache: dict[str, str] = {}

    def statement(self, query: str) -> str:
        scoped = self._cache.get(query)
        if scoped is None:
            scoped = self._cache[query] = _scoped(query)
        return scoped

    def params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        if params and SCOPE_PARAMETER in params:
            raise ValueError(f"${SCOPE_PARAMETER} is the adapter's own parameter")
        return {**(params or {}), SCOPE_PARAMETER: self.workspace}

    @staticmethod
    def schema() -> list[SchemaStep]:
        return neo4j_unscoped_schema_drops() + neo4j_schema(SCOPE_PROPERTY)


def _scoped(query: str) -> str:
    for what, pattern in _NOT_SCOPABLE.items():
        if pattern.search(query):
            raise ValueError(f"statement with {what} cannot be scoped: {query!r}")
    bound: set[str] = set()

    def node(match: re.Match[str]) -> str:
        var, props = match["var"] or "", match["props"]
        names = _LABEL_NAME.findall(match["labels"])
        if len(names) > 1:
            raise ValueError(f"node pattern with several labels: {match[0]!r}")
        if names:
            labels = f":{check_label(names[0])}"
        elif var in bound:
            return match[0]  # a node matched in this workspace before
        elif _clause_before(query, match.start()) in ("MERGE", "CREATE"):
            raise ValueError(f"unlabelled node to MERGE or CREATE: {query!r}")
        else:
            labels = f":{_ANY_LABEL}"  # kgrag's nodes only, not whatever shares the database
        if var:
            bound.add(var)
        inner = props[1:-1].strip() if props else ""
        return f"({var}{labels} {{{inner + ', ' if inner else ''}{_SCOPE}}})"

    return _NODE.sub(node, query)


def _clause_before(query: str, position: int) -> str:
    clauses = _CLAUSE.findall(query, 0, position)
    return clauses[-1].upper() if clauses else ""


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
        workspace_databases: bool = False,
    ):
        self.workspace = valid_workspace(workspace)  # before any connection is made
        self.scope = None if workspace_databases else WorkspaceScope(workspace)
        self.graph_name = (
            database_name(workspace, default_database) if workspace_databases else default_database
        )
        if driver is None:
            from neo4j import GraphDatabase

            driver = GraphDatabase.driver(uri, auth=(username, password or ""))
        self._driver = driver

    def run(self, query: str, params: dict[str, Any] | None = None) -> list[Row]:
        if self.scope is not None:
            statement, values = self.scope.statement(query), self.scope.params(params)
        else:
            statement, values = query, params or {}

        def work(tx: Any) -> list[Row]:
            return [dict(record) for record in tx.run(statement, values)]

        with self._driver.session(database=self.graph_name) as session:
            if _is_write(query):
                return list(session.execute_write(work))
            return list(session.execute_read(work))

    def ensure_schema(self) -> None:
        for step in self.scope.schema() if self.scope else neo4j_schema():
            self._apply_schema_step(step)

    def _apply_schema_step(self, step: SchemaStep) -> None:
        with self._driver.session(database=self.graph_name) as session:
            session.run(step.text).consume()

    def close(self) -> None:
        self._driver.close()
