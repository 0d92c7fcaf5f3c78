"""Runs one ingestion and SIGKILLs it (or the graph server) at a chosen point.

python tests/flows/crash_driver.py POINT CORPUS, with the kgrag environment set:
- none: no fault;
- write: after the first document is complete, while the second is being written;
- resolve: during entity resolution, after the names are indexed, before SAME_AS edges;
- replace: after a changed file's new version is complete, before the old one is dropped;
- graph: SIGKILL the graph server (pid in KGRAG_TEST_GRAPH_PID) during the second write.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from kgrag.client import Client
from kgrag.indexing.indexer import Indexer
from kgrag.kg.store import GraphStore


def _after_calls(owner: type, name: str, calls: int, fault: Callable[[], None]) -> None:
    original = getattr(owner, name)
    seen = [0]

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen[0] += 1
        if seen[0] == calls:
            fault()
        return original(self, *args, **kwargs)

    setattr(owner, name, wrapped)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(point: str, corpus: str) -> None:
    if point == "write":
        _after_calls(GraphStore, "upsert_annotations", 2, _die)
    elif point == "resolve":
        _after_calls(GraphStore, "upsert_same_as", 1, _die)
    elif point == "replace":
        original = Indexer.drop

        def drop(self: Indexer, doc_ids: Any) -> None:
            if doc_ids:
                _die()
            original(self, doc_ids)

        Indexer.drop = drop  # type: ignore[method-assign]
    elif point == "graph":
        pid = int(os.environ["KGRAG_TEST_GRAPH_PID"])
        _after_calls(GraphStore, "upsert_annotations", 2, lambda: os.kill(pid, signal.SIGKILL))
    elif point != "none":
        raise SystemExit(f"unknown point {point!r}")
    Client().ingest(corpus)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
