"""Title bridges: documents the top passage names by title move up behind it."""

import pytest

from kgrag.client import Client
from kgrag.core.types import Hit
from kgrag.retrievers.bridge import BridgeConfig, bridge, promote_bridges, title_key
from kgrag.runtime import get_runtime

CHUNKS = {
    "ballet:0": (
        "ballet",
        "Aschenbrödel",
        "Aschenbrödel is a ballet by Johann Strauss II, "
        "first staged in Berlin after his death; see also West Chicago.",
    ),
    "noise:0": ("noise", "Polka", ""),
    "strauss:0": ("strauss", "Johann Strauss II", ""),
    "strauss:1": ("strauss", "Johann Strauss II", ""),
    "chicago:0": ("chicago", "West Chicago, Illinois", ""),
    "berlin-a:0": ("berlin-a", "Berlin", ""),
    "berlin-b:0": ("berlin-b", "Berlin (band)", ""),
    "self:0": ("self", "Aschenbrödel (ballet)", ""),
}


def _hits(*ids: str) -> list[Hit]:
    return [Hit(cid, 1.0 / (rank + 1), "graph") for rank, cid in enumerate(ids)]


def _order(hits: list[Hit]) -> list[str]:
    return [h.chunk_id for h in hits]


def test_named_documents_move_up_behind_the_top_passage_in_ranked_order():
    hits = _hits("ballet:0", "noise:0", "chicago:0", "strauss:0", "strauss:1")
    promoted = promote_bridges(hits, CHUNKS)
    assert _order(promoted) == ["ballet:0", "chicago:0", "strauss:0", "strauss:1", "noise:0"]
    assert [h.source for h in promoted] == ["graph", *["graph+bridge"] * 3, "graph"]
    assert [h.score for h in promoted[1:4]] == [h.score for h in hits[2:5]]  # scores kept


def test_at_most_max_moved_and_none_when_turned_off():
    hits = _hits("ballet:0", "noise:0", "chicago:0", "strauss:0", "strauss:1")
    capped = promote_bridges(hits, CHUNKS, BridgeConfig(max_moved=1))
    assert _order(capped) == ["ballet:0", "chicago:0", "noise:0", "strauss:0", "strauss:1"]
    assert promote_bridges(hits, CHUNKS, BridgeConfig(sources=0)) == hits


def test_ambiguous_titles_its_own_subject_and_partial_words_do_not_move():
    # "Berlin" names two candidate documents (qualifier dropped): ambiguous, left alone;
    # the top passage's own subject under another document is not a bridge either.
    hits = _hits("ballet:0", "noise:0", "berlin-a:0", "berlin-b:0", "self:0")
    assert promote_bridges(hits, CHUNKS) == hits
    straussberg = {**CHUNKS, "ballet:0": ("ballet", "Aschenbrödel", "by Johann Strauss IIa")}
    hits = _hits("ballet:0", "noise:0", "strauss:0")
    assert promote_bridges(hits, straussberg) == hits


def test_text_without_spaces_is_left_as_ranked():
    chunks = {
        "tu:0": ("tu", "屠呦呦", "屠呦呦因发现青蒿素获得诺贝尔生理学或医学奖。"),
        "x:0": ("x", "其他", ""),
        "prize:0": ("prize", "诺贝尔生理学或医学奖", ""),
    }
    hits = _hits("tu:0", "x:0", "prize:0")
    assert promote_bridges(hits, chunks) == hits


def test_title_key_drops_the_qualifier_and_normalises():
    assert title_key("West Chicago, Illinois") == "west chicago"
    assert title_key("F.I.R. (album)") == "fir"
    assert title_key("The Radium Institute") == "radium institute"


@pytest.mark.slow
def test_bridges_on_the_example_corpus_read_the_graph_once(demo_client: Client, monkeypatch):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    first: dict[str, str] = {}
    for cid, doc_id in sorted(rt.graph.reader_chunks().items()):
        first.setdefault(doc_id, cid)
    by_name = {d.path.rsplit("/", 1)[-1]: first[d.id] for d in rt.graph.documents()}
    order = [
        "radium-institute.txt",
        "qinghaosu.txt",
        "tu-youyou.md",
        "pierre-curie.md",
        "marie-curie.md",
    ]
    calls: list[int] = []
    original = rt.graph.run

    def counting(query, params=None):
        calls.append(1)
        return original(query, params)

    monkeypatch.setattr(rt.graph, "run", counting)
    # The Radium Institute's text names "Marie Curie" and "Marie and Pierre Curie".
    promoted = bridge(_hits(*(by_name[n] for n in order)), rt.graph)
    assert _order(promoted) == [by_name[n] for n in (order[0], order[3], order[4], *order[1:3])]
    assert len(calls) == 1
    # Chinese text has no word boundaries to match titles at: left as ranked.
    zh = _hits(by_name["tu-youyou.md"], by_name["radium-institute.txt"], by_name["qinghaosu.txt"])
    assert bridge(zh, rt.graph) == zh
