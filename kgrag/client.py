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

from kgrag.core.errors import QuestionError
from kgrag.core.settings import Settings, check_workspace, load_settings
from kgrag.core.types import Answer, Hit
from kgrag.runtime import Runtime, drop_runtime, get_runtime

if TYPE_CHECKING:
    from kgrag.flows.ingest import Progress
    from kgrag.indexing.doctor import DoctorReport
    from kgrag.indexing.extraction import ChunkProgress
    from kgrag.indexing.report import IngestReport, SyncReport
    from kgrag.kg.store import GraphStore
    from kgrag.retrievers.explore import GraphView
    from kgrag.retrievers.pipeline import Retrieval


class Client:
    """In-process: this process opens the stores and loads the models. With `url` (or
    KGRAG_URL) it is a `RemoteClient` instead: the same methods, answered by `kgrag serve`."""

    def __new__(
        cls, workspace: str | None = None, settings: Settings | None = None, url: str | None = None
    ) -> Any:
        target = url or (settings or load_settings()).url
        if cls is Client and target:
            from kgrag.server.remote import RemoteClient

            return RemoteClient(target, workspace, settings)
        return super().__new__(cls)

    def __init__(
        self, workspace: str | None = None, settings: Settings | None = None, url: str | None = None
    ) -> None:
        self.settings = settings or load_settings()
        self.workspace = check_workspace(
            self.settings.workspace if workspace is None else workspace
        )

    def _runtime(self, create: bool = False, sample: Path | None = None) -> Runtime:
        """`create`: store a new workspace's choices, the embedder chosen from the files
        under `sample` (the ones it is about to ingest) when the setting is "auto"."""
        if create:
            from kgrag.workspace import load_or_create_config

            load_or_create_config(self.settings, self.workspace, sample)
        return get_runtime(self.settings, self.workspace, create=create)

    # ------------------------------------------------------------ ingestion
    def ingest(
        self,
        path: str | Path,
        show_progress: bool = False,
        progress: Progress | None = None,
        chunk_progress: ChunkProgress | None = None,
    ) -> IngestReport:
        """Run the Prefect ingest flow on a file or folder (idempotent). `progress` is told
        (files done, files in all, failures so far) as each file is done;
        `chunk_progress`, (chunks done, chunks in all) as each batch of chunks is
        embedded and annotated, so a long file shows progress before it is done."""
        from kgrag.flows.ingest import dask_task_runner, ingest_flow
        path = Path(path).expanduser().resolve()
        runtime = self._runtime(create=True, sample=path)
        flow, extraction = ingest_flow, None
        if self.settings.task_runner == "dask":  # parse and extract in Dask workers
            runner = dask_task_runner(
                self.settings.dask_scheduler_address, self.settings.dask_workers
            )
            flow, extraction = ingest_flow.with_options(task_runner=runner), runtime.extraction_spec
        return flow(
            str(path),
            indexer=runtime.indexer,
            batch_size=self.settings.batch_size,
            show_progress=show_progress,
            progress=progress,
            extraction=extraction,
            chunk_progress=chunk_progress,
        )

    def delete(self, target: str) -> list[str]:
        """Delete a document by path (every version) or id; returns the deleted ids."""
        from kgrag.flows.delete import delete_flow

        return delete_flow(target, indexer=self._runtime().indexer)

    def prune(self, folder: str | Path) -> list[str]:
        """Delete documents under `folder` whose files are gone; returns their ids."""
        from kgrag.flows.delete import prune_flow

        return prune_flow(str(folder), indexer=self._runtime().indexer)

    def sync(
        self,
        folder: str | Path,
        progress: Progress | None = None,
        chunk_progress: ChunkProgress | None = None,
    ) -> SyncReport:
        """Make the workspace match a folder: new and changed files ingested, files gone
        from it deleted. Unchanged files cost a hash."""
        from kgrag.core.ids import is_under, normalised_path
        from kgrag.indexing.report import SyncReport

        started = time.perf_counter()
        root = normalised_path(folder)
        before = {
            d.path: d.sha256
            for d in self._runtime(create=True, sample=Path(root)).graph.documents()
            if is_under(d.path, root)
        }
        ingested = self.ingest(root, progress=progress, chunk_progress=chunk_progress)
        self.prune(root)
        after = {
            d.path: d.sha256 for d in self._runtime().graph.documents() if is_under(d.path, root)
        }
        return SyncReport(
            workspace=self.workspace,
            folder=root,
            added=sorted(after.keys() - before.keys()),
            updated=sorted(p for p in after.keys() & before.keys() if after[p] != before[p]),
            deleted=sorted(before.keys() - after.keys()),
            failed=list(ingested.failed),
            unchanged=ingested.unchanged,
            seconds=time.perf_counter() - started,
        )

    def doctor(self, repair: bool = False) -> DoctorReport:
        """Check the graph against the vectors; with `repair`, fix what can be fixed."""
        from kgrag.indexing.doctor import examine

        return examine(self._runtime().indexer, repair)

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
        from kgrag.core.choices import parse_choice
        from kgrag.retrievers.pipeline import Mode

        chosen = parse_choice(Mode, mode or self.settings.retrieval_mode, "retrieval mode")
        self.check_question(question)
        return self._runtime().retriever.retrieve(question, k or self.settings.top_k, chosen)

    def check_question(self, question: str) -> None:
        """Raise for a question that cannot be asked here (empty, too long, or a workspace
        without data), before any retrieval work."""
        if not question.strip():
            raise QuestionError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"the question has {len(question)} characters; the limit is "
                f"{self.settings.max_question_chars} (KGRAG_MAX_QUESTION_CHARS)"
            )
        _ = self._runtime().config

    def retrieve(self, question: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """The top-k chunks for a question (k defaults to KGRAG_TOP_K), without generation."""
        return self.search(question, k, mode).hits

    def ask(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        on_token: Callable[[str], None] | None = None,
        answer: str = "llm",
    ) -> Answer:
        """Retrieve, build the numbered context, and answer from it: `answer="llm"`, the
        LLM's answer citing sources as [n]; "evidence", the sources' sentences that best
        match the question, each cited (no model). With KGRAG_REFUSE_BELOW set, a
        question the workspace barely supports gets the refusal without either."""
        from kgrag.answering import answer_from, answer_method

        method = answer_method(answer)
        started = time.perf_counter()
        retrieval = self.search(question, k, mode)
        retrieved_ms = (time.perf_counter() - started) * 1000
        result = answer_from(self._runtime(), question, retrieval, method, on_token)
        result.timings = {**retrieval.timings, "retrieve_ms": retrieved_ms, **result.timings}
        result.timings["total_ms"] = (time.perf_counter() - started) * 1000
        return result

    # ------------------------------------------------------------ inspection
    def status(self) -> dict[str, Any]:
        """Backends, stored choices and counts; loads no model."""
        from kgrag.workspace import load_config

        rt = self._runtime()
        config = load_config(self.settings, self.workspace)
        return {
            "workspace": self.workspace,
            "home": str(self.settings.home),
            "graph": {
                "backend": "neo4j" if self.settings.uses_neo4j else "falkordb",
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

    def neighbourhood(self, name: str, hops: int = 1) -> GraphView:
        """The entity named `name` (or the nearest name) with what surrounds it."""
        from kgrag.retrievers.explore import entity_neighbourhood

        rt = self._runtime()
        return entity_neighbourhood(rt.graph, rt.entity_index, name, hops)

    def export_graph(self, fmt: str = "json") -> tuple[str, dict[str, int]]:
        """The whole graph as JSON or GraphML text, with its node and edge counts."""
        from kgrag.kg.export import render_graph

        return render_graph(self._runtime().graph, fmt)

    def graph(self) -> GraphStore:
        """The workspace's graph store (export, inspection)."""
        return self._runtime().graph

    def load_models(self) -> None:
        """Load the LLM and, when the workspace has data, open its stores and load its
        query models, and run each once (a first call pays for lazy loads: jieba's
        dictionary, torch's kernels, the model's pages): now rather than at the first
        question."""
        from kgrag.workspace import load_config

        rt = self._runtime()
        rt.llm.chat([{"role": "user", "content": "Hi"}], max_tokens=1, temperature=0.0)
        if load_config(self.settings, self.workspace) is not None:
            for question in ("Who wrote it?", "谁写的？"):
                rt.retriever.retrieve(question, 1)

    def close(self) -> None:
        drop_runtime(self.settings, self.workspace)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
