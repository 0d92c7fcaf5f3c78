"""The retrieval family: one question (`Query`), the ranking a retriever returns
(`Ranking`) and the tiny base class every retriever implements (`SubRetriever`).

A `Query` does the work several retrievers share once, on first use, and times it: the
question's embedding, its term analysis, and the ranking of any retriever another one
builds on (the graph retriever seeds its walk with the dense ranking).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from kgrag.core.types import Hit, Lang
from kgrag.extractors.embed import Embedder
from kgrag.extractors.query_terms import QueryAnalyzer, QueryTerms

if TYPE_CHECKING:
    from kgrag.retrievers.graph import GraphEvidence


@dataclass
class Ranking:
    """Hits best first, and for the graph retriever the evidence behind them."""

    hits: list[Hit]
    evidence: GraphEvidence | None = None


class Query:
    def __init__(self, text: str, lang: Lang, embedder: Embedder, analyzer: QueryAnalyzer) -> None:
        self.text = text
        self.lang = lang
        self._embedder = embedder
        self._analyzer = analyzer
        self.timings: dict[str, float] = {}
        self._vector: np.ndarray | None = None
        self._terms: QueryTerms | None = None
        self._rankings: dict[str, Ranking] = {}

    @contextmanager
    def timed(self, key: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.timings[key] = self.timings.get(key, 0.0) + elapsed

    def vector(self) -> np.ndarray:
        if self._vector is None:
            with self.timed("embed_ms"):
                self._vector = self._embedder.encode_queries([self.text])[0]
        return self._vector

    def terms(self) -> QueryTerms:
        if self._terms is None:
            with self.timed("analyze_ms"):
                self._terms = self._analyzer.analyze(self.text, self.lang)
        return self._terms

    def ranking(self, retriever: SubRetriever, k: int) -> Ranking:
        """`retriever`'s ranking of this query, computed once (with the first `k`)."""
        if retriever.name not in self._rankings:
            self._rankings[retriever.name] = retriever.timed(self, k)
        return self._rankings[retriever.name]


class SubRetriever(ABC):
    """One retrieval mode. Receives the stores and models it needs when built."""

    name: ClassVar[str]

    @abstractmethod
    def retrieve(self, query: Query, k: int) -> Ranking:
        """The best `k` chunks for the query, best first."""

    def timed(self, query: Query, k: int) -> Ranking:
        with query.timed(f"{self.name}_ms"):
            return self.retrieve(query, k)
