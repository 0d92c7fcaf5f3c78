"""FalkorDB adapter over the native client (Redis protocol), never the Bolt port.

Each workspace is its own graph (`kgrag_<workspace>`) in one server. Every statement kgrag
sends is idempotent, so connection errors are retried a few times with backoff (a server
restarted meanwhile is picked up); a server still silent after that is a
StoreUnavailableError.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from kgrag.core.errors import StoreUnavailableError
from kgrag.kg.dialect import Backend, SchemaStep, is_already_exists_error
from kgrag.kg.store import GraphStore, Row

RETRIES = 3
T = TypeVar("T")


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

    def _send(self, send: Callable[[], T]) -> T:
        """`send()`, retried on connection errors and timeouts with backoff."""
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        attempt = 0
        while True:
            try:
                return send()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if attempt == RETRIES:
                    raise StoreUnavailableError(
                        f"graph server at {self.host}:{self.port} is not answering: "
                        f"{str(exc).rstrip('.')}; run `kgrag up` to start it again"
                    ) from exc
                time.sleep(0.2 * 2**attempt)
                attempt += 1

    def run(self, query: str, params: dict[str, Any] | None = None) -> list[Row]:
        result = self._send(lambda: self._graph.query(query, params or {}))
        names = [_column_name(col) for col in (result.header or [])]
        return [dict(zip(names, row)) for row in result.result_set or []]

    def _apply_schema_step(self, step: SchemaStep) -> None:
        from redis.exceptions import ResponseError

        try:
            if step.command:
                command = step.command
                self._send(lambda: self._db.connection.execute_command(*command))
            else:
                self._send(lambda: self._graph.query(step.text))
        except ResponseError as exc:
            if not is_already_exists_error(self.backend, str(exc)):
                raise

    def drop(self) -> None:
        """Delete the whole workspace graph (used by tests and `kgrag reset`)."""
        from redis.exceptions import ResponseError

        try:
            self._send(self._graph.delete)
        except ResponseError as exc:  # graph never created: nothing to drop
            if "empty key" not in str(exc).lower() and "invalid graph" not in str(exc).lower():
                raise

    def close(self) -> None:
        self._db.connection.close()


def _column_name(col: Any) -> str:
    """Result headers are `[type, name]` pairs (name sometimes bytes)."""
    name = col[1] if isinstance(col, list | tuple) else col
    return name.decode() if isinstance(name, bytes) else str(name)
