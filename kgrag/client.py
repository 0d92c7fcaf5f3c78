"""`Client`: the public Python API (the CLI is a thin layer over it).

from kgrag import Client
client = Client(workspace="docs")
client.ingest("notes/")
answer = client.ask("Who founded OpenAI?")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgrag.runtime import Runtime, drop_runtime, get_runtime
from kgrag.settings import Settings, check_workspace
from kgrag.types import Answer, Hit

if TYPE_CHECKING:
    from flows.ingest import IngestReport
    from retrievers.pipeline import Retrieval


class Client:
    def __init__(self, workspace: str | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.workspace = check_workspace(workspace or self.settings.workspace)

    def _runtime(self, create: bool = False) -> Runtime:
        return get_runtime(self.settings, self.workspace, create=create)

    # ------------------------------------------------------------ ingestion
    def ingest(self, path: str | Path, show_progress: bool = False) -> IngestReport:
        """Run the Prefect ingest flow on a file or folder (idempotent)."""
        from flows.ingest import ingest_flow

        return ingest_flow(
            str(Path(path).resolve()),
            workspace=self.workspace,
            settings=self.settings,
            batch_size=self.settings.batch_size,
            show_progress=show_progress,
        )

    def delete(self, target: str) -> list[str]:
        """Delete a document by path (every version) or id; returns the deleted ids."""
        from flows.delete import delete_flow

        return delete_flow(target, workspace=self.workspace, settings=self.settings)

    def reset(self) -> None:
        """Drop the workspace: its graph, collections and stored choices."""
        from kgrag.workspace import delete_config

        rt = self._runtime(create=True)
        rt.graph.clear()
        rt.vectors.drop()
        delete_config(self.settings, self.workspace)
        drop_runtime(self.settings, self.workspace)

    # ------------------------------------------------------------ queries
    def search(self, question: str, k: int | None = None, mode: str | None = None) -> Retrieval:
        """Ranked chunks plus the graph facts and timings of the retrieval."""
        from retrievers.pipeline import Mode, RetrievalConfig, Retriever

        rt = self._runtime()
        chosen = Mode.from_str(mode or self.settings.retrieval_mode)
        config = RetrievalConfig(
            multi_query=self.settings.multi_query,
            rewrite=self.settings.rewrite_query,
            rerank_candidates=self.settings.rerank_candidates,
        )
        return Retriever(rt, config).retrieve(question, k or self.settings.top_k, chosen)

    def retrieve(self, question: str, k: int = 5, mode: str | None = None) -> list[Hit]:
        """The top-k chunks for a question, without generation."""
        return self.search(question, k, mode).hits

    def ask(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """Retrieve, build the numbered context, and let the LLM answer with citations."""
        from extractors.lang import detect_lang
        from kgrag.answer import generate_answer
        from kgrag.context import build_context

        started = time.perf_counter()
        retrieval = self.search(question, k, mode)
        context = build_context(
            retrieval.hits, retrieval.facts, self.settings.context_budget_tokens
        )
        retrieved_ms = (time.perf_counter() - started) * 1000
        llm = self._runtime().llm
        answer = generate_answer(
            question,
            detect_lang(question),
            context,
            llm,
            max_tokens=self.settings.llm_max_tokens,
            temperature=self.settings.llm_temperature,
            on_token=on_token,
        )
        answer.timings = {**retrieval.timings, "retrieve_ms": retrieved_ms, **answer.timings}
        answer.timings["total_ms"] = (time.perf_counter() - started) * 1000
        return answer

    # ------------------------------------------------------------ inspection
    def status(self) -> dict[str, Any]:
        from kgrag.workspace import load_config

        rt = self._runtime()
        config = load_config(self.settings, self.workspace)
        graph_backend = "neo4j" if self.settings.uses_neo4j else "falkordb"
        info: dict[str, Any] = {
            "workspace": self.workspace,
            "home": str(self.settings.home),
            "graph": {
                "backend": graph_backend,
                "location": self.settings.neo4j_uri
                or f"{self.settings.falkordb_host}:{self.settings.falkordb_port}",
                "counts": rt.graph.counts(),
            },
            "vectors": {
                "backend": "qdrant-server" if self.settings.qdrant_url else "qdrant-local",
                "location": self.settings.qdrant_url or str(self.settings.qdrant_path),
                "units": rt.vectors.count(),
            },
            "config": config.model_dump() if config else None,
        }
        if config is not None:
            info["extractors"] = rt.annotator.backends
        return info

    def close(self) -> None:
        drop_runtime(self.settings, self.workspace)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
