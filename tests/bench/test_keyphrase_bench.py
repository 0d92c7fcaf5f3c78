"""The Chinese keyphrase part of `kgrag bench extract`: its labelled set, its matching and
metric, and the section it adds to the bench's JSON and tables (the full bench, with the
E5 model over 40 passages, is not run here). The entity/triple part is tested in
tests/extractors/test_extract_bench.py."""

from __future__ import annotations

import numpy as np

from kgrag.bench.extract import prf, render
from kgrag.bench.keyphrases import (
    EmbeddingRankedKeyphrases,
    JiebaKeyphrases,
    load_keyphrase_set,
    match_keyphrases,
    mmr,
    phrases_match,
    render_keyphrases,
    score_keyphrases,
)


def test_keyphrase_set_is_well_formed():
    rows = load_keyphrase_set()
    assert len(rows) == 40
    assert {r["source"] for r in rows} == {"cmrc-trial", "zh-news-500"}
    assert len({r["id"] for r in rows}) == 40
    for row in rows:
        assert 3 <= len(row["keyphrases"]) <= 6
        assert all(phrase in row["text"] for phrase in row["keyphrases"])
        assert len(row["text"]) <= 300


def test_matching_normalises_and_allows_containment():
    assert phrases_match("MS-DOS", "ＭＳ－ＤＯＳ")  # full width, case
    assert phrases_match("凉茶舖", "凉茶")  # one contains the other
    assert phrases_match("香港漫画家", "香港漫畫家")  # traditional characters
    assert not phrases_match("铜锣湾", "香港")
    assert not phrases_match("", "香港")


def test_metric_on_a_hand_made_example():
    gold = ["中华基督教会公理高中书院", "铜锣湾", "单元学分制", "香港"]
    pred = ["公理", "书院", "铜锣湾", "学年班级制", "香港"]
    # 公理 takes the school; 书院 finds it taken (one-to-one); 学年班级制 is not gold.
    assert match_keyphrases(gold, pred) == 3
    assert prf(3, len(pred), len(gold)) == {"p": 0.6, "r": 0.75, "f1": 0.6667}
    assert match_keyphrases(["上海", "上海移动"], ["上海移动"]) == 1
    assert match_keyphrases(["上海", "上海移动"], ["上海移动", "上海"]) == 2
    assert match_keyphrases(gold, []) == 0


class _Oracle:
    """Returns a passage's gold phrases, then a phrase that matches none."""

    name = "oracle"

    def __init__(self, rows):
        self._gold = {r["text"]: r["keyphrases"] for r in rows}

    def extract(self, text: str, top_n: int) -> list[str]:
        return [*self._gold[text], "不相干的词"][:top_n]


def test_keyphrase_section_shape_and_table():
    rows = load_keyphrase_set()[:3]
    section = score_keyphrases([JiebaKeyphrases(), _Oracle(rows)], 5, rows)
    assert set(section) == {"set", "passages", "gold", "k", "extractors", "per_passage"}
    assert section["set"] == "keyphrases_zh" and section["passages"] == 3 and section["k"] == 5
    assert section["gold"] == sum(len(r["keyphrases"]) for r in rows)
    assert list(section["extractors"]) == ["jieba", "oracle"]
    for scores in section["extractors"].values():
        assert set(scores) == {"p", "r", "f1", "matched", "predicted", "seconds",
                               "ms_per_passage", "passages_per_s"}
        assert 0.0 <= scores["p"] <= 1.0 and 0.0 <= scores["r"] <= 1.0
        assert scores["predicted"] <= 5 * 3 and scores["passages_per_s"] > 0
    oracle = section["extractors"]["oracle"]
    matched = sum(min(5, len(r["keyphrases"])) for r in rows)  # k = 5 caps recall
    predicted = sum(min(5, len(r["keyphrases"]) + 1) for r in rows)
    assert (oracle["matched"], oracle["predicted"]) == (matched, predicted)
    assert oracle == {**oracle, **prf(matched, predicted, section["gold"])}
    assert [p["id"] for p in section["per_passage"]] == [r["id"] for r in rows]
    assert all(len(p["predicted"]["jieba"]) <= 5 for p in section["per_passage"])

    table = render_keyphrases(section)
    assert table[2] == "| extractor | P@5 | R@5 | F1@5 | ms/passage | passages/s |"
    assert table[4].startswith("| jieba | ") and table[5].startswith("| oracle | ")
    # The bench's own tables are unchanged; the keyphrase table follows them.
    quality = {"sentences": 1, "backend": "jieba", "triples_backend": "x",
               "entities": {"p": 1.0, "r": 1.0, "f1": 1.0, "typed_f1": 1.0},
               "triples": {"p": 1.0, "r": 1.0, "f1": 1.0, "predicate_f1": 1.0}}
    without = render({"quality": {"zh": quality}, "env": {"cpus": 2}})
    full = render({"quality": {"zh": quality}, "env": {"cpus": 2}, "keyphrases": section})
    assert full.startswith(without) and "| oracle | 1.00 |" not in without
    assert full.splitlines()[-1].startswith("| oracle | ")


def test_mmr_prefers_a_relevant_phrase_unlike_those_picked():
    doc = [1.0, 0.0, 0.0]
    vectors = np.array([[0.9, 0.436, 0.0], [0.89, 0.456, 0.0], [0.8, 0.0, 0.6]])
    assert mmr(np.array(doc), vectors, 2, 0.0) == [0, 1]  # pure relevance
    assert mmr(np.array(doc), vectors, 2, 0.5) == [0, 2]  # the near copy is skipped


def test_e5_ranked_extractor_on_one_passage():
    from kgrag.extractors.embed import MULTILINGUAL_EMBED_MODEL, load_embedder

    row = load_keyphrase_set()[2]  # 中华基督教会公理高中书院
    extractor = EmbeddingRankedKeyphrases(load_embedder(MULTILINGUAL_EMBED_MODEL))
    candidates = extractor.candidates(row["text"])
    assert any(len(c) >= 6 for c in candidates)  # a multi-word name, not only words
    phrases = extractor.extract(row["text"], 5)
    assert len(phrases) == 5 and set(phrases) <= set(candidates)
