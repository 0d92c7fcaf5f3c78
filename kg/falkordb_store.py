"""FalkorDB adapter over the native client (Redis protocol), never the Bolt port.

Each workspace is its own graph (`kgrag_<workspace>`) in one server. Every statement kgrag
sends is idempotent, so connection errors are retried a few times with backoff.
"""

from __future__ import annotations

import time
from typing import Any

from kgrag.kg.dialect import Backend, SchemaStep, is_already_exists_error
from kgrag.kg.store import GraphStore, Row

RETRIES = 3


def graph_name(workspace: str) -> str:
    return f"kgrag_{workspace}"


class FalkorDBStore(GraphStore):
    backend = Backend.FALKORDB

    def __init__(self, host: str, port: int, workspace: str, password: str | None = None):
        from falkordb import FalkorDB

        self.host, self.port = host, port
        self.graph_name = graph_name(workspace)
        self._db = FalkorDB(host=host, port=port, password=password)
        self._graph = self._db.select_graph(self.graph_name)

    def run(self, query: str, params: dict[str, Any] | None = None) -> list[Row]:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        for attempt in range(RETRIES + 1):
            try:
                result = self._graph.query(query, params or {})
                break
            except (RedisConnectionError, RedisTimeoutError):
                if attempt == RETRIES:
                    raise
                time.sleep(0.2 * 2**attempt)
        names = [_column_name(col) for col in (result.header or [])]
        return [dict(zip(names, row)) for row in result.result_set or []]

    def _apply_schema_step(self, step: SchemaStep) -> None:
        from redis.exceptions import ResponseError

        try:
            if step.command:
                self._db.connection.execute_command(*step.command)
            else:
                self._graph.query(step.text)
        except ResponseError as exc:
            if not is_already_exists_error(self.backend, str(exc)):
                raise

    def drop(self) -> None:
        """Delete the whole workspace graph (used by tests and `kgrag reset`)."""
        from redis.exceptions import ResponseError

        try:
            self._graph.delete()
        except ResponseError as exc:  # graph never created: nothing to drop
            if "empty key" not in str(exc).lower() and "invalid graph" not in str(exc).lower():
                raise

    def close(self) -> None:
        self._db.connection.close()


def _column_name(col: Any) -> str:
    """Result headers are `[type, name]` pairs (name sometimes bytes)."""
    name = col[1] if isinstance(col, list | tuple) else col
    return name.decode() if isinstance(name, bytes) else str(name)
