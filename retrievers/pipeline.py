"""Retrieval modes: dense, keyword, hybrid (dense+keyword), graph, fused (all three).

Every mode returns `Hit`s hydrated from the graph: a vector whose chunk is not in the
graph (an interrupted ingestion) is never returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from kgrag.types import Hit
from retrievers.fuse import FusionMethod, Ranked, fuse
from retrievers.graph import graph_search
from retrievers.linking import analyze
from retrievers.rewrite import multi_query_fuse
from retrievers.vector import dense_search, keyword_search

if TYPE_CHECKING:
    from kgrag.runtime import Runtime


class Mode(StrEnum):
    DENSE = "dense"
    KEYWORD = "keyword"
    HYBRID = "hybrid"
    GRAPH = "graph"
    FUSED = "fused"

    @classmethod
    def from_str(cls, value: str) -> Mode:
        try:
            return cls(value.lower())
        except ValueError as exc:
            names = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown retrieval mode {value!r}: use one of {names}") from exc


@dataclass
class RetrievalConfig:
    fusion: FusionMethod = FusionMethod.RRF
    rrf_k: int = 60
    # The graph list already folds in the dense seeds, so it leads (tuned on both dev sets).
    weights: dict[str, float] = field(
        default_factory=lambda: {"dense": 0.5, "keyword": 0.25, "graph": 2.0}
    )
    candidates: int = 30  # per retriever, before fusion
    multi_query: int = 0  # LLM rephrasings retrieved and fused with the question (RAG-Fusion)
    rewrite: bool = False  # let the LLM rewrite the question into a search query first
    rerank_candidates: int = 20  # hits the reranker re-scores, when one is configured


@dataclass
class Retrieval:
    hits: list[Hit]
    facts: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


_GRAPH_MODES = (Mode.GRAPH, Mode.FUSED)


class Retriever:
    def __init__(self, runtime: Runtime, config: RetrievalConfig | None = None) -> None:
        self.rt = runtime
        self.config = config or RetrievalConfig()

    def retrieve(self, question: str, k: int = 5, mode: Mode = Mode.FUSED) -> Retrieval:
        """Optional query rewriting and multi-query (RAG-Fusion) run the modes once per
        query and fuse the lists; the optional reranker and the answer both see the
        original question."""
        timings: dict[str, float] = {}
        queries = [question]
        if self.config.rewrite or self.config.multi_query > 0:
            started = time.perf_counter()
            queries = self._queries(question)
            timings["rewrite_ms"] = _ms(started)
        n = max(k, self.config.candidates)
        runs = [self._rank(q, mode, n, timings) for q in queries]
        started = time.perf_counter()
        if len(runs) == 1:
            ranked = runs[0][0]
        else:
            ranked = multi_query_fuse([r[0] for r in runs], self.config.rrf_k)
        facts = list(dict.fromkeys(f for _, run_facts in runs for f in run_facts))
        reranker = self.rt.reranker
        if reranker is None:
            hits = self._hydrate(ranked[: k * 2])[:k]
        else:
            pool = self._hydrate(ranked[: max(2 * k, self.config.rerank_candidates)])
            hits = reranker.rerank(question, pool, k)
        timings["fuse_ms"] = _ms(started)
        return Retrieval(hits, facts, timings)

    def _queries(self, question: str) -> list[str]:
        from extractors.lang import detect_lang
        from retrievers.rewrite import rephrasings, rewrite_query

        lang = detect_lang(question)
        first = rewrite_query(self.rt.llm, question, lang) if self.config.rewrite else question
        extra = rephrasings(self.rt.llm, question, self.config.multi_query, lang)
        return list(dict.fromkeys([first, *extra]))

    def _rank(
        self, question: str, mode: Mode, n: int, timings: dict[str, float]
    ) -> tuple[list[Ranked], list[str]]:
        rankings: dict[str, list[Ranked]] = {}
        facts: list[str] = []
        started = time.perf_counter()
        analysis = analyze(question, self.rt.annotator) if mode in _GRAPH_MODES else None
        _add(timings, "analyze_ms", started)
        if mode is not Mode.KEYWORD:
            started = time.perf_counter()
            vector = self.rt.embedder.encode([question])[0]
            _add(timings, "embed_ms", started)
            started = time.perf_counter()
            rankings["dense"] = dense_search(self.rt.vectors, vector, n)
            _add(timings, "dense_ms", started)
        if mode in (Mode.KEYWORD, Mode.HYBRID, Mode.FUSED):
            started = time.perf_counter()
            rankings["keyword"] = keyword_search(self.rt.vectors, question, n)
            _add(timings, "keyword_ms", started)
        if analysis is not None:
            started = time.perf_counter()
            # Link candidates are embedded inside, and only those with no exact match.
            graph = graph_search(self.rt, question, rankings.get("dense", []), n, analysis=analysis)
            rankings["graph"] = graph.ranked
            facts = graph.facts
            _add(timings, "graph_ms", started)
            if mode is Mode.GRAPH:
                del rankings["dense"]  # seeds only: the graph list is the ranking
        if len(rankings) == 1:
            return next(iter(rankings.values())), facts
        return fuse(rankings, self.config.fusion, self.config.weights, self.config.rrf_k), facts

    def _hydrate(self, ranked: list[Ranked]) -> list[Hit]:
        rows = self.rt.graph.chunks([r.chunk_id for r in ranked])
        hits = []
        for item in ranked:
            row = rows.get(item.chunk_id)
            if row is None:
                continue
            hits.append(
                Hit(
                    chunk_id=item.chunk_id,
                    doc_id=str(row["doc_id"]),
                    text=str(row["text"]),
                    score=item.score,
                    source=item.source,
                    path=str(row["path"] or ""),
                    title=str(row["title"] or ""),
                    span=(int(row["span_start"] or 0), int(row["span_end"] or 0)),
                )
            )
        return hits


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _add(timings: dict[str, float], key: str, started: float) -> None:
    timings[key] = timings.get(key, 0.0) + _ms(started)
