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
    weights: dict[str, float] = field(
        default_factory=lambda: {"dense": 1.0, "keyword": 0.5, "graph": 1.0}
    )
    candidates: int = 30  # per retriever, before fusion


@dataclass
class Retrieval:
    hits: list[Hit]
    facts: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class Retriever:
    def __init__(self, runtime: Runtime, config: RetrievalConfig | None = None) -> None:
        self.rt = runtime
        self.config = config or RetrievalConfig()

    def retrieve(self, question: str, k: int = 5, mode: Mode = Mode.FUSED) -> Retrieval:
        timings: dict[str, float] = {}
        rankings: dict[str, list[Ranked]] = {}
        facts: list[str] = []
        n = max(k, self.config.candidates)
        uses_graph = mode in (Mode.GRAPH, Mode.FUSED)
        started = time.perf_counter()
        analysis = analyze(question, self.rt.annotator) if uses_graph else None
        texts = [question, *(analysis.candidates() if analysis else [])]
        vectors = self.rt.embedder.encode(texts)  # question and link candidates: one call
        vector = vectors[0]
        timings["embed_ms"] = _ms(started)
        if mode in (Mode.DENSE, Mode.HYBRID, Mode.FUSED, Mode.GRAPH):
            started = time.perf_counter()
            rankings["dense"] = dense_search(self.rt.vectors, vector, n)
            timings["dense_ms"] = _ms(started)
        if mode in (Mode.KEYWORD, Mode.HYBRID, Mode.FUSED):
            started = time.perf_counter()
            rankings["keyword"] = keyword_search(self.rt.vectors, question, n)
            timings["keyword_ms"] = _ms(started)
        if analysis is not None:
            started = time.perf_counter()
            graph = graph_search(
                self.rt,
                question,
                rankings.get("dense", []),
                n,
                analysis=analysis,
                candidate_vectors=dict(zip(texts[1:], vectors[1:])),
            )
            rankings["graph"] = graph.ranked
            facts = graph.facts
            timings["graph_ms"] = _ms(started)
            if mode is Mode.GRAPH:
                del rankings["dense"]  # seeds only: the graph list is the ranking
        started = time.perf_counter()
        if len(rankings) == 1:
            ranked = next(iter(rankings.values()))
        else:
            ranked = fuse(rankings, self.config.fusion, self.config.weights, self.config.rrf_k)
        hits = self._hydrate(ranked[: k * 2])[:k]
        timings["fuse_ms"] = _ms(started)
        return Retrieval(hits, facts, timings)

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
