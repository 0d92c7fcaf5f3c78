"""Exploring the graph: an entity's neighbourhood as nodes and edges, the shape a graph
view draws (entities, the chunks that mention them, relations between them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kgrag.core.errors import EntityNotFoundError
from kgrag.extractors.normalize import normalize_key
from kgrag.kg.neighbourhood import ExpansionConfig, fetch_neighbourhood
from kgrag.kg.store import GraphStore
from kgrag.retrievers.entity_index import EntityIndex

PREVIEW_CHARS = 160


@dataclass(frozen=True)
class ViewNode:
    id: str  # "entity:<key>" or "chunk:<chunk id>"
    kind: str  # "entity" | "chunk"
    label: str
    detail: dict[str, str | int | float | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class ViewEdge:
    source: str
    target: str
    kind: str  # "MENTIONS" | "RELATION" | "SAME_AS"
    label: str = ""
    sentence: str = ""


@dataclass
class GraphView:
    center: str  # id of the node asked about
    nodes: list[ViewNode]
    edges: list[ViewEdge]


def find_entity(graph: GraphStore, entity_index: EntityIndex, name: str) -> str:
    """The key of the entity named `name`: by normalised name, else the nearest name."""
    key = normalize_key(name)
    if key and key in graph.entities([key]):
        return key
    matches = entity_index.match([name], 1, entity_index.name_threshold)
    if matches and matches[0]:
        return matches[0][0][0]
    raise EntityNotFoundError(f"no entity named {name!r} in this workspace")


def entity_neighbourhood(
    graph: GraphStore,
    entity_index: EntityIndex,
    name: str,
    hops: int = 1,
    max_chunks: int = 40,
) -> GraphView:
    """The entity, the chunks that mention it and the entities they mention (and, with
    `hops=2`, one more round), with the relations and SAME_AS edges among them. The entity
    itself is expanded however many chunks mention it, up to `max_chunks`."""
    key = find_entity(graph, entity_index, name)
    config = ExpansionConfig(hops=hops, max_chunks_per_entity=max_chunks, max_chunks=max_chunks)
    sub = fetch_neighbourhood(graph, [key], [], config)
    chunks = graph.chunks(sub.chunks)
    nodes = [
        ViewNode(
            f"entity:{e.key}",
            "entity",
            e.name,
            {"key": e.key, "mentions": e.mention_count, "hub": e.is_hub},
        )
        for e in sub.entities
    ]
    nodes += [
        ViewNode(
            f"chunk:{c.id}",
            "chunk",
            c.title or c.path,
            {"chunk_id": c.id, "doc_id": c.doc_id, "path": c.path, "text": c.text[:PREVIEW_CHARS]},
        )
        for c in chunks.values()
    ]
    known = {n.id for n in nodes}
    edges = [
        ViewEdge(f"chunk:{c}", f"entity:{e}", "MENTIONS")
        for c, e, _ in sub.mentions
        if f"chunk:{c}" in known and f"entity:{e}" in known
    ]
    edges += [
        ViewEdge(f"entity:{r.src_key}", f"entity:{r.dst_key}", "RELATION", r.predicate, r.sentence)
        for r in sub.relations
    ]
    edges += [
        ViewEdge(f"entity:{a}", f"entity:{b}", "SAME_AS", f"{score:.2f}")
        for a, b, score in sub.same_as
    ]
    return GraphView(f"entity:{key}", nodes, edges)
