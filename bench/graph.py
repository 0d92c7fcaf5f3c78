"""`kgrag bench graph`: graph write throughput and query-time sampling latency.

- write: one batch of 10,000 mentions (1,000 chunks x 10 entities, 2,000 distinct
  entities) through `GraphStore.upsert_annotations`, in a scratch workspace; rows/s.
- sampling: for each benchmark question, seed linking, then k-hop fetch and personalized
  PageRank (and random walk with restart) on the benchmark workspace; p50/p95 ms.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from kgrag.bench.report import write_json
from kgrag.bench.retrieval import ingest, prepare
from kgrag.client import Client
from kgrag.core.settings import Settings
from kgrag.core.types import Chunk, ChunkAnnotations, Document, Entity, Mention
from kgrag.extractors.lang import detect_lang
from kgrag.kg.neighbourhood import fetch_neighbourhood
from kgrag.kg.sampling import personalized_pagerank, random_walk_with_restart
from kgrag.retrievers.base import Query
from kgrag.retrievers.graph import GraphConfig
from kgrag.retrievers.linking import link
from kgrag.retrievers.pipeline import RetrievalConfig
from kgrag.retrievers.vector import DenseRetriever
from kgrag.runtime import get_runtime


def _percentiles(values: list[float]) -> dict[str, float]:
    p50, p95 = np.percentile(np.asarray(values, dtype=np.float64), [50, 95])
    return {"p50": float(p50), "p95": float(p95)}


def write_throughput(
    settings: Settings, chunks: int = 1_000, per_chunk: int = 10
) -> dict[str, Any]:
    client = Client(workspace="bench-graph-write", settings=settings)
    rt = get_runtime(settings, client.workspace, create=True)
    rt.graph.clear()
    doc = Document("bench-doc", "/bench/graph.md", "graph bench", "en", "x" * chunks, "sha")
    chunk_list = [
        Chunk(f"bench-doc:{i}", doc.id, i, f"chunk {i}", (i, i + 1)) for i in range(chunks)
    ]
    annotations = []
    for i, chunk in enumerate(chunk_list):
        ents = [
            Entity(f"e{(i * per_chunk + j) % 2000}", f"E{j}", "ORG", "en") for j in range(per_chunk)
        ]
        annotations.append(
            ChunkAnnotations(chunk.id, ents, [Mention(chunk.id, e.key, (0, 1)) for e in ents])
        )
    rt.graph.upsert_document(doc, chunk_list)
    started = time.perf_counter()
    rt.graph.upsert_annotations(doc.id, annotations)
    seconds = time.perf_counter() - started
    mentions = chunks * per_chunk
    started = time.perf_counter()
    rt.graph.upsert_annotations(doc.id, annotations)  # idempotent re-run
    rerun = time.perf_counter() - started
    counts = rt.graph.counts()
    client.reset()
    return {
        "mentions": mentions,
        "seconds": seconds,
        "rows_per_s": mentions / seconds,
        "rerun_seconds": rerun,
        "entities": counts["Entity"],
        "mention_edges": counts["MENTIONS"],
    }


def sampling_latency(data: Path, settings: Settings, limit: int | None) -> dict[str, Any]:
    corpus = prepare(data, settings, limit)
    ingest(corpus, settings, reuse=True)
    rt = get_runtime(settings, corpus.workspace)
    config = GraphConfig()  # what retrieval uses: seeds, expansion and sampler settings
    dense_retriever = DenseRetriever(rt.vectors)
    link_ms: list[float] = []
    fetch_ms: list[float] = []
    ppr_ms: list[float] = []
    rwr_ms: list[float] = []
    sizes: list[int] = []
    for q in corpus.questions:
        query = Query(q.question, detect_lang(q.question), rt.embedder, rt.analyzer)
        dense = query.ranking(dense_retriever, RetrievalConfig().candidates).hits
        started = time.perf_counter()
        seeds = link(
            query.terms(), rt.graph, rt.entity_index, [h.chunk_id for h in dense], config.linking
        )
        link_ms.append((time.perf_counter() - started) * 1000)
        entity_seeds = {s.key: s.confidence for s in seeds}
        chunk_seeds = {h.chunk_id: max(h.score, 1e-6) for h in dense[: config.seed_chunks]}
        started = time.perf_counter()
        sub = fetch_neighbourhood(rt.graph, list(entity_seeds), list(chunk_seeds), config.expansion)
        fetch_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        personalized_pagerank(sub, entity_seeds, chunk_seeds, config.sampling)
        ppr_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        random_walk_with_restart(sub, entity_seeds, chunk_seeds, config.sampling)
        rwr_ms.append((time.perf_counter() - started) * 1000)
        sizes.append(len(sub.chunks) + len(sub.entities))
    total = [f + p for f, p in zip(fetch_ms, ppr_ms)]
    return {
        "dataset": corpus.name,
        "questions": len(corpus.questions),
        "link_ms": _percentiles(link_ms),
        "fetch_ms": _percentiles(fetch_ms),
        "ppr_ms": _percentiles(ppr_ms),
        "rwr_ms": _percentiles(rwr_ms),
        "sampling_plus_ppr_ms": _percentiles(total),
        "subgraph_nodes_median": statistics.median(sizes) if sizes else 0,
    }


def run_graph_bench(
    data: Path | None,
    limit: int | None = None,
    out: Path | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    settings = settings or Settings()
    result: dict[str, Any] = {"write": write_throughput(settings)}
    if data is not None:
        result["sampling"] = sampling_latency(data, settings, limit)
    if out is not None:
        write_json(result, out)
    return result


def render(result: dict[str, Any]) -> str:
    w = result["write"]
    lines = [
        "| graph bench | value |",
        "|---|---|",
        f"| write: {w['mentions']} mentions | {w['seconds']:.2f} s "
        f"({w['rows_per_s']:.0f} rows/s) |",
        f"| write: idempotent re-run | {w['rerun_seconds']:.2f} s |",
    ]
    if "sampling" in result:
        s = result["sampling"]
        for key in ("link_ms", "fetch_ms", "ppr_ms", "rwr_ms", "sampling_plus_ppr_ms"):
            lines.append(
                f"| {key} p50 / p95 ({s['dataset']}) | {s[key]['p50']:.1f} / {s[key]['p95']:.1f} |"
            )
        lines.append(f"| subgraph nodes (median) | {s['subgraph_nodes_median']} |")
    return "\n".join(lines) + "\n"
