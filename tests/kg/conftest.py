"""A fresh FalkorDB graph per test, with kgrag's schema, on the session's real server."""

from collections.abc import Iterator

import pytest

from kgrag.kg.falkordb_store import FalkorDBStore
from kgrag.services import LocalServer


@pytest.fixture
def store(falkordb_server: LocalServer, workspace: str) -> Iterator[FalkorDBStore]:
    s = FalkorDBStore(falkordb_server.host, falkordb_server.port, workspace)
    s.ensure_schema()
    yield s
    s.drop()
    s.close()
