"""Prefect flows that remove documents: by path or id, and files gone from a folder."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from kgrag.core.errors import DocumentNotFoundError
from kgrag.flows.naming import run_name
from kgrag.indexing.indexer import Indexer


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def delete_documents(indexer: Indexer, doc_ids: list[str]) -> None:
    indexer.delete(doc_ids)


@flow(name="kgrag-delete", flow_run_name=run_name("delete"), log_prints=True)
def delete_flow(target: str, indexer: Indexer) -> list[str]:
    """Delete one document (every version of a path, or one id)."""
    ids = indexer.targets(target)
    if not ids:
        raise DocumentNotFoundError(
            f"{target}: no such document in workspace {indexer.workspace!r}"
        )
    delete_documents(indexer, ids)
    get_run_logger().info("deleted %d document(s) for %s", len(ids), target)
    return ids


@flow(name="kgrag-prune", flow_run_name=run_name("prune"), log_prints=True)
def prune_flow(folder: str, indexer: Indexer) -> list[str]:
    """Delete documents under `folder` whose file no longer exists (watched folders). A
    folder that does not exist is an error, not a reason to delete everything under it."""
    gone = indexer.gone_under(Path(folder))
    if gone:
        delete_documents(indexer, gone)
    get_run_logger().info("pruned %d document(s) under %s", len(gone), folder)
    return gone
