"""Open the configured stores: Neo4j when NEO4J_URI is set, else a local FalkorDB server
(started on demand); Qdrant server when QDRANT_URL is set, else local mode under home."""

from __future__ import annotations

from kgrag.core.errors import StoreUnavailableError
from kgrag.core.settings import Settings
from kgrag.kg.store import GraphStore
from kgrag.retrievers.vector_index import VectorIndex
from kgrag.services import LocalServer, is_listening, start, wait_ready, writes_to


def local_server(settings: Settings) -> LocalServer:
    return LocalServer(settings.falkordb_host, settings.falkordb_port, settings.falkordb_dir)


def open_graph(settings: Settings, workspace: str) -> GraphStore:
    if settings.uses_neo4j:
        from kgrag.kg.neo4j_store import Neo4jStore

        assert settings.neo4j_uri is not None
        return Neo4jStore(
            settings.neo4j_uri,
            settings.neo4j_username,
            settings.neo4j_password.get_secret_value() if settings.neo4j_password else None,
            workspace,
            settings.neo4j_database,
            workspace_databases=settings.neo4j_workspace_databases,
        )
    from kgrag.kg.falkordb_store import FalkorDBStore

    server = local_server(settings)
    if settings.falkordb_autostart:
        start(server)  # starts one, or uses this home's running one (waits while it loads)
    elif is_listening(server.host, server.port):
        wait_ready(server)  # a server started elsewhere: used as it is, whoever's it is
    else:
        raise StoreUnavailableError(
            f"no graph server on {server.host}:{server.port}: run `kgrag up` (or set NEO4J_URI)"
        )
    return FalkorDBStore(server.host, server.port, workspace)


def open_vectors(settings: Settings, workspace: str) -> VectorIndex:
    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return VectorIndex(workspace, url=settings.qdrant_url, api_key=key)
    with writes_to(settings.qdrant_path):
        return VectorIndex(workspace, path=settings.qdrant_path)
