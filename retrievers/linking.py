"""Entity linking: a question's terms -> seed entities with confidences.

Candidates are the question's entities and noun phrases / keywords (`QueryTerms`, from
the same extractors ingestion uses). Each is linked by exact normalised key
(confidence 1), else to the nearest entity names above a cosine threshold (confidence =
cosine). Entities mentioned in the top dense hits can join as weaker seeds. Every seed
says where it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kgrag.extractors.normalize import normalize_key
from kgrag.extractors.query_terms import QueryTerms
from kgrag.kg.store import GraphStore
from kgrag.retrievers.entity_index import EntityIndex


@dataclass(frozen=True)
class Seed:
    key: str
    confidence: float
    source: str  # "exact" | "vector" | "dense-hit"
    mention: str = ""


@dataclass(frozen=True)
class LinkingConfig:
    threshold: float | None = None  # default: the embedder's own name threshold
    neighbours: int = 3
    # Off by default: with the dense hits already seeding the walk as chunks, their
    # entities as extra seeds pulled in off-topic nodes (-2 to -5 R@5 on both dev sets).
    dense_hit_chunks: int = 0
    dense_hit_confidence: float = 0.3


def link(
    terms: QueryTerms,
    graph: GraphStore,
    entity_index: EntityIndex,
    dense_chunks: Sequence[str] = (),
    config: LinkingConfig | None = None,
) -> list[Seed]:
    """Only candidates with no exact match are embedded."""
    cfg = config or LinkingConfig()
    seeds: dict[str, Seed] = {}

    def offer(seed: Seed) -> None:
        current = seeds.get(seed.key)
        if current is None or seed.confidence > current.confidence:
            seeds[seed.key] = seed

    threshold = entity_index.name_threshold if cfg.threshold is None else cfg.threshold
    keys = {c: normalize_key(c) for c in terms.candidates()}
    found = graph.entities([k for k in keys.values() if k])
    unlinked = []
    for text, key in keys.items():
        if key in found:
            offer(Seed(key, 1.0, "exact", text))
        else:
            unlinked.append(text)
    for text, matches in zip(unlinked, entity_index.match(unlinked, cfg.neighbours, threshold)):
        for key, score in matches:
            offer(Seed(key, score, "vector", text))
    if dense_chunks and cfg.dense_hit_chunks:
        for key in graph.entity_keys_of_chunks(list(dense_chunks[: cfg.dense_hit_chunks])):
            offer(Seed(key, cfg.dense_hit_confidence, "dense-hit"))
    return sorted(seeds.values(), key=lambda s: (-s.confidence, s.key))
