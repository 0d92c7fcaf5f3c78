"""Fetch the k-hop neighbourhood of seed entities and seed chunks as a `Subgraph`.

Hops alternate entity -> chunk -> entity: (1) chunks mentioning the seed entities,
(2) entities those chunks (and the seed chunks) mention, (3) with `hops=2`, chunks
mentioning those entities: the second hop a vector search misses. Hub entities are
skipped when expanding chunks, and entities mentioned in more than
`max_chunks_per_entity` chunks are never expanded, which caps fan-out. Relations and
SAME_AS edges inside the set come in one more trip. Rows carry ids only; names and
mention counts are fetched for the few entities that need them (seeds, fact endpoints),
because parsing result rows is most of the cost of a fetch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kgrag.kg import queries as q
from kgrag.kg.sampling import RelationEdge, Subgraph, SubgraphEntity
from kgrag.kg.store import GraphStore


@dataclass(frozen=True)
class ExpansionConfig:
    hops: int = 2
    max_chunks_per_entity: int = 10
    max_chunks: int = 300


def fetch_neighbourhood(
    graph: GraphStore,
    seed_entities: Sequence[str],
    seed_chunks: Sequence[str],
    config: ExpansionConfig | None = None,
) -> Subgraph:
    cfg = config or ExpansionConfig()
    chunks: dict[str, None] = dict.fromkeys(seed_chunks)
    mentions: dict[tuple[str, str], float] = {}
    entity_keys: dict[str, None] = {}

    def expand_entities(keys: Sequence[str]) -> None:
        if not keys:
            return
        rows = graph.run(
            q.NEIGHBOURHOOD_MENTIONS, {"keys": list(keys), "cap": cfg.max_chunks_per_entity}
        )
        for row in rows:
            if row["chunk_id"] not in chunks and len(chunks) >= cfg.max_chunks:
                continue
            chunks.setdefault(row["chunk_id"], None)
            mentions[(row["chunk_id"], row["key"])] = float(row["count"] or 1)

    def expand_chunks(ids: Sequence[str]) -> list[str]:
        new: list[str] = []
        if not ids:
            return new
        for row in graph.run(q.CHUNK_ENTITIES, {"ids": list(ids)}):
            mentions[(row["chunk_id"], row["key"])] = float(row["count"] or 1)
            if row["key"] not in entity_keys:
                entity_keys[row["key"]] = None
                new.append(row["key"])
        return new

    expand_entities(seed_entities)
    new_entities = expand_chunks(list(chunks))
    for _ in range(cfg.hops - 1):
        before = set(chunks)
        expand_entities(new_entities)
        new_entities = expand_chunks([c for c in chunks if c not in before])
    entity_keys.update(dict.fromkeys(seed_entities))

    relations: list[RelationEdge] = []
    same_as: list[tuple[str, str, float]] = []
    for row in graph.run(q.ENTITY_EDGES_FROM, {"keys": list(entity_keys)}):
        if row["dst"] not in entity_keys:
            continue
        if row["type"] == "SAME_AS":
            same_as.append((row["src"], row["dst"], float(row["score"] or 1.0)))
        else:
            relations.append(
                RelationEdge(
                    row["src"],
                    row["dst"],
                    str(row["predicate"]),
                    str(row["chunk_id"]),
                    str(row["sentence"] or ""),
                    bool(row["negated"]),
                )
            )
    described = {*seed_entities, *(r.src_key for r in relations), *(r.dst_key for r in relations)}
    described.update(k for pair in same_as for k in pair[:2])
    info = graph.entities(sorted(described))
    entities = [
        SubgraphEntity(
            key=key,
            name=info[key].name if key in info else key,
            mention_count=max(info[key].mention_count, 1) if key in info else 1,
            is_hub=info[key].is_hub if key in info else False,
        )
        for key in entity_keys
    ]
    return Subgraph(
        entities=entities,
        chunks=list(chunks),
        mentions=[(c, e, w) for (c, e), w in mentions.items()],
        relations=relations,
        same_as=same_as,
    )
