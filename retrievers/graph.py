"""Graph retriever: link the question to seed entities, sample their neighbourhood, rank
chunks by personalized PageRank (or random walk with restart); the evidence it keeps
(seeds, subgraph, scores) is verbalised into facts once the chunks' titles are known.

The top dense hits join as seed chunks with their scores, so the walk starts from both
what the question names and what it resembles (HippoRAG 2's passage seeding).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from kgrag.core.types import Hit
from kgrag.kg.neighbourhood import ExpansionConfig, fetch_neighbourhood
from kgrag.kg.sampling import (
    SamplerConfig,
    SampleResult,
    Subgraph,
    personalized_pagerank,
    random_walk_with_restart,
)
from kgrag.kg.store import GraphStore
from kgrag.kg.verbalize import Fact, verbalize
from kgrag.retrievers.base import Query, Ranking, SubRetriever
from kgrag.retrievers.entity_index import EntityIndex
from kgrag.retrievers.linking import LinkingConfig, Seed, link


class Sampler(StrEnum):
    PPR = "ppr"
    RWR = "rwr"


@dataclass
class GraphConfig:
    sampler: Sampler = Sampler.PPR
    seed_chunks: int = 3  # top dense hits that seed the walk (3 beat 5 and 10 on both dev sets)
    expansion: ExpansionConfig = field(default_factory=ExpansionConfig)
    sampling: SamplerConfig = field(default_factory=SamplerConfig)
    linking: LinkingConfig = field(default_factory=LinkingConfig)
    fact_budget_tokens: int = 200


@dataclass
class GraphEvidence:
    """What the walk saw: its seeds, the sampled subgraph and the scores it gave."""

    seeds: list[Seed]
    subgraph: Subgraph
    result: SampleResult
    fact_budget_tokens: int

    def facts(self, titles: Mapping[str, str]) -> list[Fact]:
        """Fact lines, each naming the title of its source chunk (by chunk id)."""
        return verbalize(self.subgraph, self.result, titles, self.fact_budget_tokens)


class GraphRetriever(SubRetriever):
    name: ClassVar[str] = "graph"

    def __init__(
        self,
        graph: GraphStore,
        entity_index: EntityIndex,
        seeding: SubRetriever,
        config: GraphConfig | None = None,
    ) -> None:
        """`seeding` ranks the chunks that seed the walk (the dense retriever)."""
        self.graph = graph
        self.entity_index = entity_index
        self.seeding = seeding
        self.config = config or GraphConfig()

    def retrieve(self, query: Query, k: int) -> Ranking:
        cfg = self.config
        seed_hits = query.ranking(self.seeding, k).hits
        seeds = link(
            query.terms(),
            self.graph,
            self.entity_index,
            [h.chunk_id for h in seed_hits],
            cfg.linking,
        )
        seed_chunks = {h.chunk_id: max(h.score, 1e-6) for h in seed_hits[: cfg.seed_chunks]}
        if not seeds and not seed_chunks:
            return Ranking([])
        entity_seeds = {s.key: s.confidence for s in seeds}
        sub = fetch_neighbourhood(self.graph, list(entity_seeds), list(seed_chunks), cfg.expansion)
        walk = personalized_pagerank if cfg.sampler is Sampler.PPR else random_walk_with_restart
        result = walk(sub, entity_seeds, seed_chunks, cfg.sampling)
        hits = [Hit(cid, score, self.name) for cid, score in result.chunks[:k]]
        return Ranking(hits, GraphEvidence(seeds, sub, result, cfg.fact_budget_tokens))
