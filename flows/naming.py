"""Flow run names that say which workspace a run worked on (the `Indexer` parameter
itself shows as `<Indexer>` in the Prefect UI)."""

from __future__ import annotations

from collections.abc import Callable


def run_name(action: str) -> Callable[[], str]:
    """A `flow_run_name` callable: "<action>-<workspace>"."""

    def name() -> str:
        from prefect.runtime import flow_run

        indexer = flow_run.parameters.get("indexer")
        return f"{action}-{getattr(indexer, 'workspace', 'workspace')}"

    return name
