"""Export a workspace graph for other tools: GraphML (Gephi, yEd, NetworkX) or JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from kgrag.core.errors import ConfigError
from kgrag.kg import queries as q
from kgrag.kg.store import GraphStore


def _node_id(label: str, props: dict[str, Any]) -> str:
    return f"{label}:{props.get('id') or props.get('key')}"


# XML 1.0 forbids C0 controls other than tab, newline and carriage return (PDF text often
# carries form feeds).
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _scalar(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)
    return _XML_FORBIDDEN.sub(" ", text)


def export_graph(graph: GraphStore, out: Path, fmt: str = "json") -> dict[str, int]:
    """Write the graph to `out`; returns the node and edge counts."""
    text, counts = render_graph(graph, fmt)
    out.write_text(text, encoding="utf-8")
    return counts


def render_graph(graph: GraphStore, fmt: str = "json") -> tuple[str, dict[str, int]]:
    """The graph as JSON or GraphML text, with its node and edge counts."""
    if fmt not in ("json", "graphml"):
        raise ConfigError(f"unknown export format {fmt!r}: use json or graphml")
    nodes = [(r["label"], dict(r["props"])) for r in graph.run(q.EXPORT_NODES)]
    edges = graph.run(q.EXPORT_EDGES)
    counts = {"nodes": len(nodes), "edges": len(edges)}
    if fmt == "graphml":
        return _graphml(nodes, edges), counts
    payload = {
        "nodes": [{**p, "id": _node_id(label, p), "label": label} for label, p in nodes],
        "edges": [
            {
                "source": f"{e['src_label']}:{e['src']}",
                "target": f"{e['dst_label']}:{e['dst']}",
                "type": e["type"],
                **dict(e["props"] or {}),
            }
            for e in edges
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1), counts


def _graphml(nodes: list[tuple[str, dict[str, Any]]], edges: list[dict[str, Any]]) -> str:
    node_keys = sorted({k for _, p in nodes for k in p} | {"label"})
    edge_keys = sorted({k for e in edges for k in (e["props"] or {})} | {"type"})
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    ]
    lines += [
        f'  <key id="n_{k}" for="node" attr.name="{k}" attr.type="string"/>' for k in node_keys
    ]
    lines += [
        f'  <key id="e_{k}" for="edge" attr.name="{k}" attr.type="string"/>' for k in edge_keys
    ]
    lines.append('  <graph edgedefault="directed">')
    for label, props in nodes:
        lines.append(f"    <node id={quoteattr(_node_id(label, props))}>")
        for k, v in {"label": label, **props}.items():
            lines.append(f'      <data key="n_{k}">{escape(_scalar(v))}</data>')
        lines.append("    </node>")
    for e in edges:
        src, dst = f"{e['src_label']}:{e['src']}", f"{e['dst_label']}:{e['dst']}"
        lines.append(f"    <edge source={quoteattr(src)} target={quoteattr(dst)}>")
        for k, v in {"type": e["type"], **(e["props"] or {})}.items():
            lines.append(f'      <data key="e_{k}">{escape(_scalar(v))}</data>')
        lines.append("    </edge>")
    lines += ["  </graph>", "</graphml>"]
    return "\n".join(lines) + "\n"
