"""The graph behind an answer: the graph retriever's walk for a question, as the nodes and
edges the page draws.

The walk is run again for the question (it is deterministic, and cheap next to the
answer): the seed entities the question linked to, the dense hits that seeded it as
chunks, and the chunks and entities the walk scored highest, with the mentions,
relations and SAME_AS edges among them. The cited chunks are always drawn (`in_walk`
false for one the walk never reached: an answer of the dense or keyword mode may cite
it). Every node says what it was in the walk (`seed`, `seed_chunk`, `cited`, `score`),
so the page can highlight them. Only the walk's best nodes are kept: a sampled subgraph
has hundreds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kgrag.core.errors import ConfigError
from kgrag.extractors.lang import detect_lang
from kgrag.kg.sampling import SampleResult, Subgraph
from kgrag.kg.store import GraphStore
from kgrag.retrievers.base import Query
from kgrag.retrievers.explore import PREVIEW_CHARS, ViewEdge, ViewNode
from kgrag.retrievers.graph import GraphRetriever
from kgrag.retrievers.linking import Seed
from kgrag.retrievers.pipeline import Retriever

TOP_CHUNKS = 8
TOP_ENTITIES = 24


@dataclass
class AnswerGraph:
    question: str
    seeds: list[Seed]
    nodes: list[ViewNode] = field(default_factory=list)
    edges: list[ViewEdge] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def answer_graph(
    retriever: Retriever, question: str, k: int, cited: Sequence[str] = ()
) -> AnswerGraph:
    """The walk the graph retriever makes for `question` (the graph and fused modes use
    it), reduced to its best chunks and entities plus the `cited` chunks."""
    walker = retriever.retrievers.get("graph")
    if not isinstance(walker, GraphRetriever):
        raise ConfigError("this workspace's retriever has no graph walk")
    query = Query(question, detect_lang(question), retriever.embedder, retriever.analyzer)
    n = max(k, retriever.config.candidates)
    ranking = walker.retrieve(query, n)
    evidence = ranking.evidence
    if evidence is None:  # nothing linked and no dense hit: no walk
        return AnswerGraph(question, [])
    seed_chunks = [h.chunk_id for h in query.ranking(walker.seeding, n).hits]
    seed_chunks = seed_chunks[: walker.config.seed_chunks]
    return _view(
        walker.graph, question, evidence.seeds, evidence.subgraph, evidence.result,
        seed_chunks, list(cited),
    )  # fmt: skip


def _view(
    graph: GraphStore,
    question: str,
    seeds: list[Seed],
    sub: Subgraph,
    result: SampleResult,
    seed_chunks: list[str],
    cited: list[str],
) -> AnswerGraph:
    chunk_score = dict(result.chunks)
    entity_score = dict(result.entities)
    in_walk = set(sub.chunks)
    chunk_ids = list(
        dict.fromkeys(
            cited
            + [c for c in seed_chunks if c in in_walk]
            + [c for c, _ in result.chunks[:TOP_CHUNKS]]
        )
    )
    chunk_set = set(chunk_ids)
    seed_keys = [s.key for s in seeds]
    linked = {e for c, e, _ in sub.mentions if c in chunk_set}
    best = [e for e, _ in result.entities if e in linked or e in seed_keys][:TOP_ENTITIES]
    entity_keys = list(dict.fromkeys(seed_keys + best))
    entity_set = set(entity_keys)

    records = graph.chunks(chunk_ids)
    named = graph.entities(entity_keys)
    by_seed = {s.key: s for s in seeds}
    nodes = [
        ViewNode(
            f"entity:{key}",
            "entity",
            named[key].name if key in named else key,
            {
                "key": key,
                "mentions": named[key].mention_count if key in named else 0,
                "score": round(entity_score.get(key, 0.0), 6),
                "seed": key in by_seed,
                **(_seed_detail(by_seed[key]) if key in by_seed else {}),
            },
        )
        for key in entity_keys
    ]
    nodes += [
        ViewNode(
            f"chunk:{cid}",
            "chunk",
            r.title or r.path,
            {
                "chunk_id": cid,
                "doc_id": r.doc_id,
                "path": r.path,
                "text": r.text[:PREVIEW_CHARS],
                "score": round(chunk_score.get(cid, 0.0), 6),
                "seed_chunk": cid in seed_chunks,
                "cited": cid in cited,
                "in_walk": cid in in_walk,
            },
        )
        for cid in chunk_ids
        if (r := records.get(cid)) is not None
    ]
    edges = [
        ViewEdge(f"chunk:{c}", f"entity:{e}", "MENTIONS")
        for c, e, _ in sub.mentions
        if c in chunk_set and c in records and e in entity_set
    ]
    edges += [
        ViewEdge(f"entity:{r.src_key}", f"entity:{r.dst_key}", "RELATION", r.predicate, r.sentence)
        for r in sub.relations
        if r.src_key in entity_set and r.dst_key in entity_set
    ]
    edges += [
        ViewEdge(f"entity:{a}", f"entity:{b}", "SAME_AS", f"{score:.2f}")
        for a, b, score in sub.same_as
        if a in entity_set and b in entity_set
    ]
    return AnswerGraph(question, seeds, nodes, edges)


def _seed_detail(seed: Seed) -> dict[str, str | float]:
    return {
        "confidence": round(seed.confidence, 4),
        "linked_by": seed.source,
        "linked_from": seed.mention,
    }
