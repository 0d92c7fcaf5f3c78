"""Prefect flows that remove documents: by path or id, and files gone from a folder."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.ingest import discover
from kgrag.runtime import get_runtime
from kgrag.settings import Settings


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def delete_documents(settings: Settings, workspace: str, doc_ids: list[str]) -> None:
    """Graph first (the reader's source of truth), then vectors, then entity vectors.
    A vector left by an interruption is never returned (hits are hydrated from the graph)
    and the next ingestion's reconcile step removes it."""
    from kg.resolution import sync_entity_vectors

    rt = get_runtime(settings, workspace)
    for doc_id in doc_ids:
        rt.graph.delete_document(doc_id)
        rt.vectors.delete_document(doc_id)
    sync_entity_vectors(rt.graph, rt.vectors, rt.embedder.encode)


def _resolve_targets(settings: Settings, workspace: str, target: str) -> list[str]:
    rt = get_runtime(settings, workspace)
    if rt.graph.document(target):
        return [target]
    path = str(Path(target).expanduser().resolve())
    return [r["id"] for r in rt.graph.documents_by_path(path)]


@flow(name="kgrag-delete", log_prints=True)
def delete_flow(
    target: str, workspace: str = "default", settings: Settings | None = None
) -> list[str]:
    """Delete one document (every version of a path, or one id)."""
    settings = settings or Settings()
    ids = _resolve_targets(settings, workspace, target)
    if not ids:
        raise LookupError(f"{target}: no such document in workspace {workspace!r}")
    delete_documents(settings, workspace, ids)
    get_run_logger().info("deleted %d document(s) for %s", len(ids), target)
    return ids


@flow(name="kgrag-prune", log_prints=True)
def prune_flow(
    folder: str, workspace: str = "default", settings: Settings | None = None
) -> list[str]:
    """Delete documents whose file under `folder` no longer exists (watched folders)."""
    settings = settings or Settings()
    root = Path(folder).expanduser().resolve()
    present = {str(p.resolve()) for p in discover(root)} if root.exists() else set()
    rt = get_runtime(settings, workspace)
    gone = [
        r["id"]
        for r in rt.graph.documents()
        if str(r["path"]).startswith(str(root)) and r["path"] not in present
    ]
    if gone:
        delete_documents(settings, workspace, gone)
    get_run_logger().info("pruned %d document(s) under %s", len(gone), root)
    return gone
