"""`fetch_neighbourhood` against a real FalkorDB server: hops, hub skipping, seed chunks,
entity-entity edges inside the set, and PPR over the fetched subgraph."""


import pytest

from kgrag.core.types import Chunk, ChunkAnnotations, Document, Entity, Mention, Triple
from kgrag.kg.falkordb_store import FalkorDBStore
from kgrag.kg.neighbourhood import ExpansionConfig, fetch_neighbourhood
from kgrag.kg.sampling import personalized_pagerank

pytestmark = pytest.mark.slow

HUB_THRESHOLD = 3

# chunk id -> names of the entities it mentions (an entity listed twice is mentioned twice).
#   d1:0  A A B H     seeds {A} reach this chunk at hop 1
#   d1:1  B C         second hop (via B)
#   d1:2  C D         third hop: never fetched with hops=2
#   d2:*  H           H is mentioned in 5 chunks: a hub, never expanded under a cap of 3
#   d3:0  Z H         unrelated to A except through the hub
LAYOUT: dict[str, dict[str, list[str]]] = {
    "d1": {
        "d1:0": ["Alpha", "Alpha", "Bravo", "Hub"],
        "d1:1": ["Bravo", "Charlie"],
        "d1:2": ["Charlie", "Delta"],
    },
    "d2": {"d2:0": ["Hub"], "d2:1": ["Hub"], "d2:2": ["Hub"]},
    "d3": {"d3:0": ["Zulu", "Hub"]},
}
TRIPLES = {
    "d1:0": ("founded", "Alpha", "Bravo"),
    "d1:2": ("met", "Charlie", "Delta"),  # D is outside the 2-hop set: edge must be dropped
}


def _key(name: str) -> str:
    return name[0].lower()  # Alpha -> "a", Hub -> "h", ...


def _load(store: FalkorDBStore) -> None:
    for doc_id, chunks in LAYOUT.items():
        texts = {cid: " ".join(names) + "." for cid, names in chunks.items()}
        full = " ".join(texts.values())
        doc = Document(doc_id, f"/data/{doc_id}.md", doc_id.upper(), "en", full, f"sha-{doc_id}")
        pos, rows = 0, []
        for idx, (cid, text) in enumerate(texts.items()):
            rows.append(Chunk(cid, doc_id, idx, text, (pos, pos + len(text))))
            pos += len(text) + 1
        store.upsert_document(doc, rows)
        anns = []
        for cid, names in chunks.items():
            ents = [Entity(_key(n), n, "ORG", "en") for n in dict.fromkeys(names)]
            triples = []
            if cid in TRIPLES:
                pred, a0, a1 = TRIPLES[cid]
                triples.append(Triple(pred, a0, a1, {}, False, cid, f"{a0} {pred} {a1}.", (0, 1)))
            anns.append(
                ChunkAnnotations(
                    cid,
                    entities=ents,
                    mentions=[Mention(cid, _key(n), (0, 1)) for n in names],
                    triples=triples,
                )
            )
        store.upsert_annotations(doc_id, anns, hub_threshold=HUB_THRESHOLD)
    store.upsert_same_as([("b", "c", 0.91), ("a", "d", 0.88)])


@pytest.fixture
def graph(store: FalkorDBStore) -> FalkorDBStore:
    _load(store)
    assert store.entities(["h"])["h"].mention_count == 5
    return store


def test_second_hop_reached_only_with_two_hops(graph: FalkorDBStore):
    wide = 100  # no hub skipping here: only the hop count decides
    one = fetch_neighbourhood(graph, ["a"], [], ExpansionConfig(hops=1, max_chunks_per_entity=wide))
    assert set(one.chunks) == {"d1:0"}
    assert {e.key for e in one.entities} == {"a", "b"}  # the hub H is skipped

    two = fetch_neighbourhood(graph, ["a"], [], ExpansionConfig(hops=2, max_chunks_per_entity=wide))
    assert {"d1:0", "d1:1"} <= set(two.chunks)
    assert "d1:2" not in two.chunks  # third hop
    keys = {e.key for e in two.entities}
    assert "c" in keys and "d" not in keys
    # A is mentioned twice in d1:0: the MENTIONS count travels as the edge weight.
    assert ("d1:0", "a", 2.0) in two.mentions
    assert ("d1:1", "c", 1.0) in two.mentions


def test_hubs_are_skipped_unless_seeded(graph: FalkorDBStore):
    capped = fetch_neighbourhood(graph, ["a"], [], ExpansionConfig(hops=2, max_chunks_per_entity=3))
    assert "h" not in {e.key for e in capped.entities}
    assert set(capped.chunks) == {"d1:0", "d1:1"}
    assert all(e != "h" for _, e, _ in capped.mentions)

    # A seeded hub is a node with its flags, and still expanded when under the cap.
    seeded = fetch_neighbourhood(
        graph, ["a", "h"], [], ExpansionConfig(hops=1, max_chunks_per_entity=5)
    )
    hub = {e.key: e for e in seeded.entities}["h"]
    assert hub.is_hub and hub.mention_count == 5
    assert {"d2:0", "d2:1", "d2:2", "d3:0"} <= set(seeded.chunks)


def test_hub_seed_is_kept_as_node(graph: FalkorDBStore):
    sub = fetch_neighbourhood(graph, ["h"], [], ExpansionConfig(hops=2, max_chunks_per_entity=3))
    assert sub.chunks == []
    assert [(e.key, e.name, e.is_hub) for e in sub.entities] == [("h", "Hub", True)]


def test_seed_chunks_are_included_and_expanded(graph: FalkorDBStore):
    sub = fetch_neighbourhood(graph, [], ["d3:0"], ExpansionConfig(hops=1))
    assert sub.chunks == ["d3:0"]
    assert {e.key for e in sub.entities} == {"z"}
    assert {(c, e) for c, e, _ in sub.mentions} == {("d3:0", "z")}


def test_max_chunks_caps_the_set(graph: FalkorDBStore):
    sub = fetch_neighbourhood(
        graph, ["a"], [], ExpansionConfig(hops=2, max_chunks_per_entity=100, max_chunks=2)
    )
    assert len(sub.chunks) == 2
    assert "d1:0" in sub.chunks


def test_relation_and_same_as_edges_inside_the_set(graph: FalkorDBStore):
    sub = fetch_neighbourhood(graph, ["a"], [], ExpansionConfig(hops=2, max_chunks_per_entity=3))
    rels = [(r.src_key, r.dst_key, r.predicate, r.chunk_id, r.negated) for r in sub.relations]
    assert rels == [("a", "b", "founded", "d1:0", False)]
    assert sub.relations[0].sentence == "Alpha founded Bravo."
    # b-c is inside the set; a-d and the c-d relation point outside it (D is a third hop).
    assert [(a, b) for a, b, _ in sub.same_as] == [("b", "c")]
    assert sub.same_as[0][2] == pytest.approx(0.91)


def test_ppr_ranks_second_hop_chunk_above_unrelated_chunk(graph: FalkorDBStore):
    # d3:0 joins as a seed chunk; it is tied to A's chunk only through the skipped hub H.
    sub = fetch_neighbourhood(
        graph, ["a"], ["d3:0"], ExpansionConfig(hops=2, max_chunks_per_entity=3)
    )
    assert {"d1:1", "d3:0"} <= set(sub.chunks)
    result = personalized_pagerank(sub, {"a": 1.0}, {})
    scores = dict(result.chunks)
    assert scores["d1:0"] > scores["d1:1"] > scores.get("d3:0", 0.0)
