"""`export_graph` (JSON and GraphML) from a real FalkorDB graph."""

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from kgrag.core.types import (
    Chunk,
    ChunkAnnotations,
    Document,
    Entity,
    Keyphrase,
    Mention,
    Triple,
)
from kgrag.kg.export import export_graph
from kgrag.kg.falkordb_store import FalkorDBStore

pytestmark = pytest.mark.slow

NS = {"g": "http://graphml.graphdrawing.org/xmlns"}
NODE_LABELS = ("Document", "Chunk", "Entity", "Keyphrase")
TRICKY_NAME = 'AT&T "Bell" <Labs> & 屠呦呦 ✓'
TRICKY_TEXT = 'O\'Brien said "R&D <rocks>" — 青蒿素 & co. 🧪'


def _populate(store: FalkorDBStore, text0: str = TRICKY_TEXT) -> None:
    text1 = "Apple acquired Beats in 2014."
    full = f"{text0} {text1}"
    doc = Document("d1", "/data/d1.md", 'Title "q" & más', "en", full, "sha-d1")
    c0 = Chunk("d1:0", "d1", 0, text0, (0, len(text0)))
    c1 = Chunk("d1:1", "d1", 1, text1, (len(text0) + 1, len(full)))
    child = Chunk("d1:1:s0", "d1", 0, text1[:14], c1.span, level=1, parent_id="d1:1")
    store.upsert_document(doc, [c0, c1, child])
    ents = [
        Entity("att", TRICKY_NAME, "ORG", "en"),
        Entity("apple", "Apple", "ORG", "en"),
        Entity("beats", "Beats", "ORG", "en"),
    ]
    store.upsert_annotations(
        "d1",
        [
            ChunkAnnotations(
                "d1:0",
                [ents[0]],
                [Mention("d1:0", "att", (0, 4))],
                keyphrases=[Keyphrase("r&d", "R&D", 0.8)],
            ),
            ChunkAnnotations(
                "d1:1",
                ents[1:],
                [Mention("d1:1", "apple", (0, 5)), Mention("d1:1", "beats", (15, 20))],
                triples=[Triple("acquired", "Apple", "Beats", {}, False, "d1:1", text1, (0, 29))],
            ),
        ],
    )
    store.upsert_same_as([("att", "apple", 0.81)])


def _totals(store: FalkorDBStore) -> tuple[int, int, dict[str, int]]:
    counts = store.counts()
    nodes = sum(counts[label] for label in NODE_LABELS)
    edge_counts = {k: v for k, v in counts.items() if k not in NODE_LABELS}
    return nodes, sum(edge_counts.values()), edge_counts


def test_json_export_matches_counts_and_keeps_text(store: FalkorDBStore, tmp_path: Path):
    _populate(store)
    n_nodes, n_edges, edge_counts = _totals(store)
    # every node label and relationship type is present at least once
    assert n_nodes == 8 and all(edge_counts.values())

    out = tmp_path / "g.json"
    assert export_graph(store, out, "json") == {"nodes": n_nodes, "edges": n_edges}
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["nodes"]) == n_nodes and len(data["edges"]) == n_edges
    assert Counter(n["label"] for n in data["nodes"]) == {
        "Document": 1,
        "Chunk": 3,
        "Entity": 3,
        "Keyphrase": 1,
    }
    assert Counter(e["type"] for e in data["edges"]) == edge_counts

    by_label = {(n["label"], n.get("key") or n.get("text")): n for n in data["nodes"]}
    assert by_label[("Entity", "att")]["name"] == TRICKY_NAME
    assert by_label[("Entity", "att")]["aliases"] == [TRICKY_NAME]
    assert by_label[("Chunk", TRICKY_TEXT)]["doc_id"] == "d1"
    [doc] = [n for n in data["nodes"] if n["label"] == "Document"]
    assert doc["title"] == 'Title "q" & más'
    [rel] = [e for e in data["edges"] if e["type"] == "RELATION"]
    assert (rel["source"], rel["target"], rel["predicate"]) == (
        "Entity:apple",
        "Entity:beats",
        "acquired",
    )
    [same] = [e for e in data["edges"] if e["type"] == "SAME_AS"]
    assert same["score"] == pytest.approx(0.81)


def test_json_edges_point_at_exported_nodes(store: FalkorDBStore, tmp_path: Path):
    _populate(store)
    out = tmp_path / "g.json"
    export_graph(store, out, "json")
    data = json.loads(out.read_text(encoding="utf-8"))
    ids = {n["id"] for n in data["nodes"]}
    assert len(ids) == len(data["nodes"])
    dangling = [
        (e["source"], e["target"])
        for e in data["edges"]
        if e["source"] not in ids or e["target"] not in ids
    ]
    assert dangling == []


def test_graphml_parses_and_matches_counts(store: FalkorDBStore, tmp_path: Path):
    _populate(store)
    n_nodes, n_edges, edge_counts = _totals(store)
    out = tmp_path / "g.graphml"
    assert export_graph(store, out, "graphml") == {"nodes": n_nodes, "edges": n_edges}

    root = ET.parse(out).getroot()
    keys = {k.get("id"): k.get("attr.name") for k in root.findall("g:key", NS)}
    graph = root.find("g:graph", NS)
    assert graph is not None and graph.get("edgedefault") == "directed"
    nodes = graph.findall("g:node", NS)
    edges = graph.findall("g:edge", NS)
    assert len(nodes) == n_nodes and len(edges) == n_edges

    def data(el: ET.Element) -> dict[str, str]:
        return {keys[d.get("key")]: d.text or "" for d in el.findall("g:data", NS)}

    node_data = {n.get("id"): data(n) for n in nodes}
    assert len(node_data) == n_nodes  # ids are unique
    assert node_data["Entity:att"]["name"] == TRICKY_NAME
    assert json.loads(node_data["Entity:att"]["aliases"]) == [TRICKY_NAME]
    assert node_data["Chunk:d1:0"]["text"] == TRICKY_TEXT
    assert node_data["Document:d1"]["title"] == 'Title "q" & más'
    assert node_data["Keyphrase:r&d"]["label"] == "Keyphrase"

    edge_rows = [(e.get("source"), e.get("target"), data(e)) for e in edges]
    assert Counter(d["type"] for _, _, d in edge_rows) == edge_counts
    assert all(s in node_data and t in node_data for s, t, _ in edge_rows)
    assert ("Chunk:d1:0", "Keyphrase:r&d", "HAS_KEYPHRASE") in {
        (s, t, d["type"]) for s, t, d in edge_rows
    }
    assert ("Chunk:d1:1:s0", "Chunk:d1:1", "PART_OF") in {
        (s, t, d["type"]) for s, t, d in edge_rows
    }


def test_graphml_survives_control_characters(store: FalkorDBStore, tmp_path: Path):
    _populate(store, text0="page one\x0cpage two\x0b")
    out = tmp_path / "g.graphml"
    export_graph(store, out, "graphml")
    ET.parse(out)


def test_empty_graph_exports_nothing(store: FalkorDBStore, tmp_path: Path):
    out = tmp_path / "g.json"
    assert export_graph(store, out, "json") == {"nodes": 0, "edges": 0}
    assert json.loads(out.read_text(encoding="utf-8")) == {"nodes": [], "edges": []}
    gml = tmp_path / "g.graphml"
    assert export_graph(store, gml, "graphml") == {"nodes": 0, "edges": 0}
    graph = ET.parse(gml).getroot().find("g:graph", NS)
    assert graph is not None and len(graph) == 0


def test_unknown_format_raises(store: FalkorDBStore, tmp_path: Path):
    _populate(store)
    out = tmp_path / "g.csv"
    with pytest.raises(ValueError, match="csv"):
        export_graph(store, out, "csv")
    assert not out.exists()
