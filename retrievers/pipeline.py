"""Retrieval modes: dense, keyword, hybrid (dense+keyword), graph, fused (all three).

A mode names the sub-retrievers whose rankings are fused. Every mode returns `Hit`s
hydrated from the graph in one read (with the graph facts' titles): a vector whose chunk
is not in the graph (an interrupted ingestion) is never returned.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from kgrag.core.types import Hit, Lang
from kgrag.extractors.embed import Embedder
from kgrag.extractors.lang import detect_lang
from kgrag.extractors.query_terms import QueryAnalyzer
from kgrag.kg.store import GraphStore
from kgrag.retrievers.base import Query, Ranking, SubRetriever
from kgrag.retrievers.bridge import BridgeConfig, bridge
from kgrag.retrievers.coverage import CoverageConfig, cover
from kgrag.retrievers.fuse import FusionMethod, fuse
from kgrag.retrievers.graph import GraphEvidence
from kgrag.retrievers.linking import Seed
from kgrag.retrievers.rerank import Reranker
from kgrag.retrievers.rewrite import multi_query_fuse, rephrasings, rewrite_query


class Mode(StrEnum):
    DENSE = "dense"
    KEYWORD = "keyword"
    HYBRID = "hybrid"
    GRAPH = "graph"
    FUSED = "fused"
    KEYINFO = "keyinfo"  # the key-information index alone (`retrievers.keyinfo`)


MODE_RETRIEVERS: dict[Mode, tuple[str, ...]] = {
    Mode.DENSE: ("dense",),
    Mode.KEYWORD: ("keyword",),
    Mode.HYBRID: ("dense", "keyword"),
    Mode.GRAPH: ("graph",),  # the graph retriever seeds its walk with dense hits itself
    Mode.FUSED: ("dense", "keyword", "graph"),
    Mode.KEYINFO: ("keyinfo",),
}


# Chinese questions, with an embedder that reads Chinese (multilingual-e5-small, the
# "auto" choice for Chinese text). Measured on cmrc-trial (R@1 / R@5): dense 99.0 / 99.5,
# keyword 97.5 / 99.0, graph 73.5 / 98.5; fused with the English weights 91.5 / 99.0,
# with these 98.5 / 99.5 (and R@10 100). An English-only embedder cannot lead here: set
# KGRAG_FUSION_WEIGHTS_ZH for a Chinese workspace that is made to use one.
CHINESE_WEIGHTS: dict[str, float] = {"dense": 2.0, "keyword": 1.0, "graph": 0.5}


@dataclass
class RetrievalConfig:
    fusion: FusionMethod = FusionMethod.RRF
    # RRF's k: small, so that the first ranks of the leading (graph) list count for more
    # than agreement lower down. Fused R@5 / all-found@5 at k = 60 -> 5: musique-dev
    # 75.8 / 52 -> 77.2 / 55, hotpotqa-dev 92.0 / 87 -> 92.5 / 88, cmrc-trial R@5 99.5 ->
    # 100 (k = 10 and 20 between; k = 2 loses hotpotqa R@2 4.5 points).
    rrf_k: int = 5
    # The graph list already folds in the dense seeds, so it leads (tuned on both dev sets).
    weights: dict[str, float] = field(
        default_factory=lambda: {"dense": 0.5, "keyword": 0.25, "graph": 2.0}
    )
    # Per question language, replacing `weights` (see `CHINESE_WEIGHTS`).
    weights_by_lang: dict[str, dict[str, float]] = field(
        default_factory=lambda: {"zh": dict(CHINESE_WEIGHTS)}
    )
    candidates: int = 30  # per retriever, before fusion
    multi_query: int = 0  # LLM rephrasings retrieved and fused with the question (RAG-Fusion)
    rewrite: bool = False  # let the LLM rewrite the question into a search query first
    rerank_candidates: int = 20  # hits the reranker re-scores, when one is configured
    # Modes with the graph: documents the top passage names by title move up behind it
    # (`retrievers.bridge`; `BridgeConfig(sources=0)` turns it off).
    bridges: BridgeConfig = field(default_factory=BridgeConfig)
    # Modes with the graph: the first places go to hits that cover the question's words
    # together (`retrievers.coverage`; `CoverageConfig(weight=0)` turns it off).
    coverage: CoverageConfig = field(default_factory=CoverageConfig)


@dataclass
class Retrieval:
    hits: list[Hit]
    lang: Lang
    facts: list[str] = field(default_factory=list)
    seeds: list[Seed] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)  # the question and its LLM rewrites
    timings: dict[str, float] = field(default_factory=dict)


class Retriever:
    """Runs a mode's sub-retrievers for a question (and its LLM rewrites, when asked),
    fuses their rankings, hydrates the best from the graph and optionally reranks."""

    def __init__(
        self,
        retrievers: Mapping[str, SubRetriever],
        graph: GraphStore,
        embedder: Embedder,
        analyzer: QueryAnalyzer,
        config: RetrievalConfig | None = None,
        reranker: Reranker | None = None,
        llm: Any = None,
    ) -> None:
        """`llm` is needed only for `config.rewrite` or `config.multi_query`."""
        self.retrievers = retrievers
        self.graph = graph
        self.embedder = embedder
        self.analyzer = analyzer
        self.config = config or RetrievalConfig()
        self.reranker = reranker
        self.llm = llm

    def retrieve(self, question: str, k: int = 5, mode: Mode = Mode.FUSED) -> Retrieval:
        """Optional query rewriting and multi-query (RAG-Fusion) run the mode once per
        query and fuse the lists; the optional reranker and the answer both see the
        original question."""
        lang = detect_lang(question)
        timings: dict[str, float] = {}
        texts = [question]
        if self.config.rewrite or self.config.multi_query > 0:
            started = time.perf_counter()
            texts = self._queries(question, lang)
            timings["rewrite_ms"] = _ms(started)
        n = max(k, self.config.candidates)
        queries = [Query(text, lang, self.embedder, self.analyzer) for text in texts]
        runs = [self._rank(query, mode, n) for query in queries]
        for query in queries:
            for key, value in query.timings.items():
                timings[key] = timings.get(key, 0.0) + value

        started = time.perf_counter()
        ranked = runs[0][0] if len(runs) == 1 else multi_query_fuse([r[0] for r in runs])
        timings["fuse_ms"] = _ms(started)

        evidence = [e for _, e in runs if e is not None]
        with_graph = "graph" in MODE_RETRIEVERS[mode]
        pool = ranked[
            : max(
                2 * k,
                self.config.coverage.depth if with_graph else 0,
                self.config.rerank_candidates if self.reranker else 0,
            )
        ]
        started = time.perf_counter()
        cited = {cid for e in evidence for cid, _ in e.result.chunks[:n]}
        records = self.graph.chunks(list(dict.fromkeys([h.chunk_id for h in pool] + [*cited])))
        hits = [
            replace(
                h,
                doc_id=r.doc_id,
                text=r.text,
                path=r.path,
                title=r.title,
                span=r.span,
            )
            for h in pool
            if (r := records.get(h.chunk_id)) is not None
        ]
        titles = {cid: r.title or r.path for cid, r in records.items()}
        facts = list(dict.fromkeys(f.text for e in evidence for f in e.facts(titles)))
        timings["hydrate_ms"] = _ms(started)
        if with_graph:
            started = time.perf_counter()
            hits = cover(question, hits, self.config.coverage)
            timings["coverage_ms"] = _ms(started)
        if self.reranker is not None:
            started = time.perf_counter()
            hits = self.reranker.rerank(question, hits, k)
            timings["rerank_ms"] = _ms(started)
        seeds = [s for e in evidence for s in e.seeds]
        return Retrieval(hits[:k], lang, facts, seeds, texts, timings)

    def _queries(self, question: str, lang: Lang) -> list[str]:
        first = rewrite_query(self.llm, question, lang) if self.config.rewrite else question
        extra = rephrasings(self.llm, question, self.config.multi_query, lang)
        return list(dict.fromkeys([first, *extra]))

    def _rank(self, query: Query, mode: Mode, n: int) -> tuple[list[Hit], GraphEvidence | None]:
        rankings: dict[str, Ranking] = {
            name: query.ranking(self.retrievers[name], n) for name in MODE_RETRIEVERS[mode]
        }
        evidence = rankings["graph"].evidence if "graph" in rankings else None
        if len(rankings) == 1:
            ranked = next(iter(rankings.values())).hits
        else:
            lists = {name: ranking.hits for name, ranking in rankings.items()}
            weights = self.config.weights_by_lang.get(query.lang, self.config.weights)
            ranked = fuse(lists, self.config.fusion, weights, self.config.rrf_k)
        if "graph" in rankings and self.config.bridges.sources > 0:
            with query.timed("bridge_ms"):
                ranked = bridge(ranked, self.graph, self.config.bridges)
        return ranked, evidence


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
