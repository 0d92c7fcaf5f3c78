import math

import pytest

from kgrag.bench.metrics import (
    all_found_at_k,
    contains_answer,
    exact_match,
    mrr,
    ndcg_at_k,
    ranks_of_supporting,
    recall_at_k,
    refusal_threshold,
    share_below,
    summarize,
    token_f1,
)

RANKED = ["x", "a", "y", "b", "z"]
GOLD = ["a", "b"]


def test_recall_counts_share_of_supporting_in_top_k():
    assert recall_at_k(RANKED, GOLD, 1) == 0.0
    assert recall_at_k(RANKED, GOLD, 2) == 0.5
    assert recall_at_k(RANKED, GOLD, 4) == 1.0
    assert recall_at_k(RANKED, ["a", "b", "c"], 5) == pytest.approx(2 / 3)


def test_all_found_needs_every_supporting_passage():
    assert all_found_at_k(RANKED, GOLD, 3) == 0.0
    assert all_found_at_k(RANKED, GOLD, 4) == 1.0


def test_mrr_is_reciprocal_rank_of_first_hit():
    assert mrr(RANKED, GOLD) == 0.5
    assert mrr(RANKED, ["b"]) == 0.25
    assert mrr(RANKED, ["missing"]) == 0.0


def test_ndcg_binary_relevance():
    # hits at ranks 2 and 4; ideal puts them at ranks 1 and 2
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, GOLD, 10) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], GOLD, 10) == pytest.approx(1.0)
    # only one of two fits in k=1, so the ideal is one hit at rank 1
    assert ndcg_at_k(["a", "b"], GOLD, 1) == pytest.approx(1.0)
    assert ndcg_at_k(RANKED, GOLD, 1) == 0.0


def test_duplicates_count_once_so_k_means_distinct_passages():
    ranked = ["x", "x", "x", "a"]
    assert recall_at_k(ranked, ["a"], 2) == 1.0
    assert ranks_of_supporting(ranked, ["a"]) == [2]
    assert ndcg_at_k(["a", "a"], ["a", "b"], 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ranks_of_supporting_are_one_based_in_supporting_order():
    assert ranks_of_supporting(RANKED, ["b", "a", "c"]) == [4, 2, None]


def test_empty_supporting_is_rejected():
    with pytest.raises(ValueError, match="supporting"):
        recall_at_k(RANKED, [], 5)


def test_summarize_averages_and_has_exact_keys():
    per_question = [(RANKED, GOLD), (["b", "a"], ["a"])]
    out = summarize(per_question, [1, 2], [10.0, 20.0, 30.0, 40.0])
    assert set(out) == {"recall@1", "recall@2", "all_found@1", "all_found@2", "mrr", "ndcg@10",
                        "latency_ms"}
    assert out["recall@1"] == pytest.approx((0.0 + 0.0) / 2)
    assert out["recall@2"] == pytest.approx((0.5 + 1.0) / 2)
    assert out["all_found@2"] == pytest.approx(0.5)
    assert out["mrr"] == pytest.approx((0.5 + 0.5) / 2)
    ndcg_first = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert out["ndcg@10"] == pytest.approx((ndcg_first + 1 / math.log2(3)) / 2)
    assert out["latency_ms"] == {"p50": pytest.approx(25.0), "p95": pytest.approx(38.5)}
    assert all(type(v) is float for k, v in out.items() if k != "latency_ms")


def test_summarize_rejects_empty_input():
    with pytest.raises(ValueError):
        summarize([], [1], [1.0])
    with pytest.raises(ValueError):
        summarize([(RANKED, GOLD)], [1], [])


def test_exact_match_normalises_case_punctuation_and_articles():
    assert exact_match("The Eiffel Tower!", "eiffel  tower") == 1.0
    assert exact_match("an apple", "apple") == 1.0
    assert exact_match("Paris", "London") == 0.0
    assert exact_match("北京。", "北京") == 1.0


def test_token_f1_english():
    # pred tokens: [barack, obama], gold: [obama] -> p=1/2, r=1 -> f1=2/3
    assert token_f1("Barack Obama", "Obama") == pytest.approx(2 / 3)
    assert token_f1("the cat", "a dog") == 0.0
    assert token_f1("", "") == 1.0
    assert token_f1("", "x") == 0.0


def test_token_f1_chinese_per_character():
    # pred 北京市 (3 chars) vs gold 北京 (2 chars): p=2/3, r=1 -> f1=0.8
    assert token_f1("北京市", "北京") == pytest.approx(0.8)
    assert token_f1("上海", "北京") == 0.0
    # mixed text: digits stay one token, each Chinese character is one
    assert token_f1("2008年", "2008") == pytest.approx(2 * (1 / 2) * 1 / (1 / 2 + 1))


def test_chinese_gold_is_scored_per_character_whatever_the_spacing():
    # words would make "28" one token and "第28届" three; characters make both four
    assert exact_match("第 28 届", "第28届") == 1.0
    assert token_f1("第28届", "第 28届") == 1.0
    # pred 第2届 vs gold 第28届: 3 of 3 predicted characters, 3 of 4 gold ones
    assert token_f1("第2届", "第28届") == pytest.approx(2 * 1 * 0.75 / 1.75)
    # an English gold keeps word tokens: "28" is one token, not two characters
    assert token_f1("2 8", "28") == 0.0
    assert token_f1("the ABC corp", "ABC Corp.") == 1.0


def test_contains_answer_matches_whole_words_or_characters():
    assert contains_answer("It was found by Marie Curie in 1898.", "Marie Curie")
    assert contains_answer("The answer is a spirit [2].", "a spirit")
    assert not contains_answer("Curie's daughter", "Marie Curie")
    assert not contains_answer("in 18980", "1898")  # not part of a longer number
    assert contains_answer("尤金袋鼠分布在澳洲南部岛屿及 西岸地区。[1]", "澳洲南部岛屿及西岸地区")
    assert not contains_answer("澳洲北部", "澳洲南部")


def test_refusal_threshold_separates_the_splits():
    answerable = [0.62, 0.71, 0.55, 0.80, 0.47]
    unanswerable = [0.41, 0.50, 0.38, 0.58, 0.44]
    got = refusal_threshold(answerable, unanswerable)
    # below 0.55: 4 of 5 unanswerable, 1 of 5 answerable (0.47); no threshold does better
    assert got == {"threshold": 0.55, "refuses_answerable": 0.2, "refuses_unanswerable": 0.8}
    assert share_below(answerable, 0.55) == 0.2
    same = refusal_threshold([0.5, 0.6], [0.5, 0.6])  # nothing separates them: refuse none
    assert same["threshold"] == 0.5 and same["refuses_unanswerable"] == 0.0
    with pytest.raises(ValueError):
        refusal_threshold([], [0.4])
