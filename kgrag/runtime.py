"""`Runtime`: the one place that builds the stores and models of a workspace and hands
each stage what it needs. Everything is built on first use and kept for the process.

Tasks and the `Client` share one `Runtime` per (settings, workspace), so models load once
per process and local Qdrant has a single client.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from kgrag.core.errors import WorkspaceNotFoundError
from kgrag.core.settings import Settings
from kgrag.stores import open_graph, open_vectors
from kgrag.workspace import WorkspaceConfig, load_config, load_or_create_config

if TYPE_CHECKING:
    from kgrag.extractors.annotator import Annotator
    from kgrag.extractors.chunking import Chunker
    from kgrag.extractors.embed import Embedder
    from kgrag.extractors.query_terms import QueryAnalyzer
    from kgrag.generation.chat_model import ChatModel
    from kgrag.indexing.extraction import ExtractionSpec
    from kgrag.indexing.indexer import Indexer
    from kgrag.kg.store import GraphStore
    from kgrag.retrievers.entity_index import EntityIndex
    from kgrag.retrievers.pipeline import Retriever
    from kgrag.retrievers.rerank import Reranker
    from kgrag.retrievers.vector_index import VectorIndex


class Runtime:
    def __init__(self, settings: Settings, workspace: str, create: bool = False) -> None:
        """`create`: a workspace without data gets its choices stored (ingestion);
        otherwise using it is a WorkspaceNotFoundError (queries)."""
        self.settings = settings
        self.workspace = workspace
        self.create = create

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

    # ------------------------------------------------------------ stores
    @cached_property
    def graph(self) -> GraphStore:
        store = open_graph(self.settings, self.workspace)
        store.ensure_schema()
        return store

    @cached_property
    def vectors(self) -> VectorIndex:
        return open_vectors(self.settings, self.workspace)

    # ------------------------------------------------------------ models
    @cached_property
    def embedder(self) -> Embedder:
        from kgrag.extractors.embed import load_embedder

        return load_embedder(self.config.embed_model)

    @cached_property
    def extraction_spec(self) -> ExtractionSpec:
        """The workspace's extraction setup as data: what a worker process builds the
        chunker and annotator from (`kgrag.indexing.extraction`), as this process does."""
        from kgrag.indexing.extraction import ExtractionSpec

        return ExtractionSpec(
            embed_model=self.config.embed_model,
            chunker=self.config.chunker,
            chunk_max_chars=self.config.chunk_max_chars,
            chunk_overlap_chars=self.config.chunk_overlap_chars,
            spacy_model=self.config.spacy_model,
            batch_size=self.settings.batch_size,
            max_file_bytes=self.settings.max_file_bytes,
            hanlp_ner=self.config.hanlp_ner,
            hanlp_tok=self.config.hanlp_tok,
            hanlp_srl=self.config.hanlp_srl,
            user_dict=self.config.user_dict,
            keyphrases=self.settings.extract_keyphrases,
            triples=self.settings.extract_triples,
        )

    @cached_property
    def chunker(self) -> Chunker:
        return self.extraction_spec.make_chunker(self.embedder)

    @cached_property
    def annotator(self) -> Annotator:
        return self.extraction_spec.make_annotator(self.embedder)

    @cached_property
    def analyzer(self) -> QueryAnalyzer:
        from kgrag.extractors.query_terms import QueryAnalyzer

        return QueryAnalyzer(self.annotator.languages)

    @cached_property
    def reranker(self) -> Reranker | None:
        from kgrag.retrievers.rerank import load_reranker

        return load_reranker(self.settings.reranker_model)

    @cached_property
    def llm(self) -> ChatModel:
        """The KGRAG_LLM_URL server, or the local GGUF shared by the whole process."""
        from kgrag.generation.chat_model import open_chat_model

        return open_chat_model(self.settings)

    # ------------------------------------------------------------ stages
    @cached_property
    def entity_index(self) -> EntityIndex:
        from kgrag.retrievers.entity_index import EntityIndex

        return EntityIndex(self.vectors, self.embedder)

    @cached_property
    def indexer(self) -> Indexer:
        from kgrag.indexing.indexer import Indexer

        return Indexer(
            self.workspace,
            self.graph,
            self.vectors,
            self,  # its models load when the indexer first needs them
            self.settings.max_file_bytes,
            keyinfo=self.config.keyinfo_index,
        )

    @cached_property
    def retriever(self) -> Retriever:
        from kgrag.core.choices import parse_choice
        from kgrag.retrievers.fuse import FusionMethod
        from kgrag.retrievers.graph import GraphConfig, GraphRetriever, Sampler
        from kgrag.retrievers.keyinfo import KeyinfoRetriever
        from kgrag.retrievers.pipeline import CHINESE_WEIGHTS, RetrievalConfig, Retriever
        from kgrag.retrievers.vector import DenseRetriever, KeywordRetriever

        _ = self.config  # a workspace without data fails here, before any store opens
        dense = DenseRetriever(self.vectors)
        keyword = KeywordRetriever(self.vectors)
        keyinfo = KeyinfoRetriever(self.vectors, indexed=self.config.keyinfo_index)
        graph = GraphRetriever(
            self.graph,
            self.entity_index,
            dense,
            GraphConfig(
                sampler=parse_choice(Sampler, self.settings.graph_sampler, "graph sampler")
            ),
        )
        config = RetrievalConfig(
            fusion=parse_choice(FusionMethod, self.settings.fusion, "fusion"),
            weights=dict(self.settings.fusion_weights),
            weights_by_lang={"zh": dict(self.settings.fusion_weights_zh or CHINESE_WEIGHTS)},
            multi_query=self.settings.multi_query,
            rewrite=self.settings.rewrite_query,
            rerank_candidates=self.settings.rerank_candidates,
        )
        uses_llm = config.multi_query > 0 or config.rewrite
        return Retriever(
            {r.name: r for r in (dense, keyword, graph, keyinfo)},
            self.graph,
            self.embedder,
            self.analyzer,
            config,
            reranker=self.reranker,
            llm=self.llm if uses_llm else None,
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
