"""Fetch the k-hop neighbourhood of seed entities and seed chunks as a `Subgraph`.

Hops alternate entity -> chunk -> entity: (1) chunks mentioning the seed entities,
(2) entities those chunks (and the seed chunks) mention, (3) with `hops=2`, chunks
mentioning those entities: the second hop a vector search misses. Entities mentioned in
more than `max_chunks_per_entity` chunks are kept as nodes but never expanded, which caps
fan-out and skips hubs. Relations and SAME_AS edges inside the set come in one more trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kg import queries as q
from kg.sampling import RelationEdge, Subgraph, SubgraphEntity
from kg.store import GraphStore, Row


@dataclass(frozen=True)
class ExpansionConfig:
    hops: int = 2
    max_chunks_per_entity: int = 40
    max_chunks: int = 2_000
    keyphrases: bool = False


def fetch_neighbourhood(
    graph: GraphStore,
    seed_entities: Sequence[str],
    seed_chunks: Sequence[str],
    config: ExpansionConfig | None = None,
) -> Subgraph:
    cfg = config or ExpansionConfig()
    chunks: dict[str, None] = dict.fromkeys(seed_chunks)
    mentions: dict[tuple[str, str], float] = {}
    entities: dict[str, SubgraphEntity] = {}

    def expand_entities(keys: Sequence[str]) -> None:
        if not keys:
            return
        rows = graph.run(
            q.NEIGHBOURHOOD_MENTIONS, {"keys": list(keys), "cap": cfg.max_chunks_per_entity}
        )
        for row in rows:
            if len(chunks) >= cfg.max_chunks:
                break
            chunks.setdefault(row["chunk_id"], None)
            mentions[(row["chunk_id"], row["key"])] = float(row["count"] or 1)

    def expand_chunks(ids: Sequence[str]) -> list[str]:
        new: list[str] = []
        if not ids:
            return new
        for row in graph.run(q.CHUNK_ENTITIES, {"ids": list(ids)}):
            mentions[(row["chunk_id"], row["key"])] = float(row["count"] or 1)
            if row["key"] not in entities:
                entities[row["key"]] = _entity(row)
                new.append(row["key"])
        return new

    expand_entities(seed_entities)
    new_entities = expand_chunks(list(chunks))
    for _ in range(cfg.hops - 1):
        before = set(chunks)
        expand_entities(new_entities)
        new_entities = expand_chunks([c for c in chunks if c not in before])
    missing = [k for k in seed_entities if k not in entities]
    for row in graph.entities(missing).values():
        entities[row["key"]] = _entity(row)

    relations: list[RelationEdge] = []
    same_as: list[tuple[str, str, float]] = []
    for row in graph.run(q.ENTITY_EDGES_WITHIN, {"keys": list(entities)}):
        if row["type"] == "SAME_AS":
            same_as.append((row["src"], row["dst"], float(row["score"] or 1.0)))
        else:
            relations.append(
                RelationEdge(
                    row["src"], row["dst"], str(row["predicate"]), str(row["chunk_id"]),
                    str(row["sentence"] or ""), bool(row["negated"]),
                )
            )
    chunk_keyphrases: list[tuple[str, str, float]] = []
    if cfg.keyphrases and chunks:
        chunk_keyphrases = [
            (r["chunk_id"], r["key"], float(r["score"] or 1.0))
            for r in graph.run(q.CHUNK_KEYPHRASES, {"ids": list(chunks)})
        ]
    return Subgraph(
        entities=list(entities.values()),
        chunks=list(chunks),
        keyphrases=sorted({k for _, k, _ in chunk_keyphrases}),
        mentions=[(c, e, w) for (c, e), w in mentions.items()],
        relations=relations,
        same_as=same_as,
        chunk_keyphrases=chunk_keyphrases,
    )


def _entity(row: Row) -> SubgraphEntity:
    return SubgraphEntity(
        key=str(row["key"]),
        name=str(row.get("name") or row["key"]),
        mention_count=int(row.get("mention_count") or 1),
        is_hub=bool(row.get("is_hub")),
    )
