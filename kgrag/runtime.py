"""What a process holds once per workspace: stores, the embedder, the annotator, the LLM.

Tasks and the `Client` share one `Runtime` per (settings, workspace), so models load once
per process and local Qdrant has a single client.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kgrag.settings import Settings
from kgrag.stores import open_graph, open_vectors
from kgrag.workspace import WorkspaceConfig, load_config, load_or_create_config

if TYPE_CHECKING:
    from extractors.chunking import Chunker
    from extractors.pipeline import Annotator
    from kg.store import GraphStore
    from kgrag.embed import Embedder
    from retrievers.rerank import Reranker
    from retrievers.vector_index import VectorIndex


class WorkspaceNotFoundError(RuntimeError):
    pass


@dataclass
class Runtime:
    settings: Settings
    workspace: str
    create: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def config(self) -> WorkspaceConfig:
        if self.create:
            return load_or_create_config(self.settings, self.workspace)
        config = load_config(self.settings, self.workspace)
        if config is None:
            raise WorkspaceNotFoundError(
                f"workspace {self.workspace!r} has no data yet: run `kgrag ingest PATH "
                f"--workspace {self.workspace}` first"
            )
        return config

    @cached_property
    def graph(self) -> GraphStore:
        store = open_graph(self.settings, self.workspace)
        store.ensure_schema()
        return store

    @cached_property
    def vectors(self) -> VectorIndex:
        return open_vectors(self.settings, self.workspace)

    @cached_property
    def embedder(self) -> Embedder:
        from kgrag.embed import load_embedder

        return load_embedder(self.config.embed_model)

    @cached_property
    def chunker(self) -> Chunker:
        from extractors.chunking import make_chunker

        opts: dict[str, Any] = {}
        if self.config.chunker in ("fixed", "late"):
            opts = {
                "max_chars": self.config.chunk_max_chars,
                "overlap_chars": self.config.chunk_overlap_chars,
            }
        return make_chunker(self.config.chunker, self.embedder, **opts)

    @cached_property
    def annotator(self) -> Annotator:
        from extractors.pipeline import build_annotator

        return build_annotator(
            embedder=self.embedder,
            spacy_model=self.config.spacy_model,
            hanlp_ner=self.config.hanlp_ner,
            hanlp_tok=self.config.hanlp_tok,
            user_dict=self.config.user_dict,
            keyphrases=self.settings.extract_keyphrases,
            triples=self.settings.extract_triples,
        )

    @cached_property
    def reranker(self) -> Reranker | None:
        from retrievers.rerank import load_reranker

        return load_reranker(self.settings.reranker_model)

    @cached_property
    def llm(self) -> Any:
        from kgrag.llm import load_llm, resolve_model_path

        path = resolve_model_path(self.settings.llm_model)
        return load_llm(
            str(path),
            self.settings.llm_n_gpu_layers,
            self.settings.llm_n_ctx,
            self.settings.llm_n_threads,
        )

    def close(self) -> None:
        if "graph" in self.__dict__:
            self.graph.close()
            del self.__dict__["graph"]


_RUNTIMES: dict[tuple[str, str], Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()


def get_runtime(settings: Settings, workspace: str, create: bool = False) -> Runtime:
    key = (settings.model_dump_json(), workspace)
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.get(key)
        if runtime is None:
            runtime = Runtime(settings, workspace, create=create)
            _RUNTIMES[key] = runtime
        elif create and not runtime.create:
            runtime.create = True
        return runtime


def drop_runtime(settings: Settings, workspace: str) -> None:
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.pop((settings.model_dump_json(), workspace), None)
    if runtime is not None:
        runtime.close()
