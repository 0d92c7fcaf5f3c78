"""Language detection, sentence splitting and key normalisation (no models)."""

from __future__ import annotations

import pytest

from kgrag.extractors.lang import detect_lang, split_paragraphs_by_lang
from kgrag.extractors.normalize import normalize_key
from kgrag.extractors.sentences import split_sentences


def sentences(text: str, lang: str = "en") -> list[str]:
    spans = split_sentences(text, lang)  # type: ignore[arg-type]
    return [text[a:b] for a, b in spans]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The quick brown fox.", "en"),
        ("北京是中国的首都。", "zh"),
        ("OpenAI发布了GPT-4模型。", "zh"),
        ("The city of 北京 is large and old and famous.", "en"),
        ("", "en"),
        ("12345 !!!", "en"),
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


def test_split_paragraphs_by_lang_routes_mixed_documents():
    text = (
        "Marie Curie was a physicist.\nShe won two prizes.\n\n"
        "居里夫人是物理学家。\n她获得了两次诺贝尔奖。\n\nThe end."
    )
    runs = split_paragraphs_by_lang(text)
    assert [lang for _, lang in runs] == ["en", "zh", "en"]
    assert [text[a:b] for (a, b), _ in runs] == [
        "Marie Curie was a physicist.\nShe won two prizes.",
        "居里夫人是物理学家。\n她获得了两次诺贝尔奖。",
        "The end.",
    ]


def test_english_sentences_respect_abbreviations_initials_and_decimals():
    text = (
        "Dr. Smith met G. Stanley Hall in the U.S. Army at 3.5 p.m. on Monday! "
        "Was it fun? Yes. See e.g. the notes."
    )
    assert sentences(text) == [
        "Dr. Smith met G. Stanley Hall in the U.S. Army at 3.5 p.m. on Monday!",
        "Was it fun?",
        "Yes.",
        "See e.g. the notes.",
    ]


def test_quotes_stay_with_their_sentence():
    assert sentences('He said "Stop." Then he left.') == ['He said "Stop."', "Then he left."]


def test_chinese_sentence_rules():
    text = "北京是首都。上海很大！你去过吗？我去过；他没有……好吧"
    assert sentences(text, "zh") == [
        "北京是首都。", "上海很大！", "你去过吗？", "我去过；", "他没有……", "好吧"
    ]
    assert sentences("他说：“走吧。”然后离开了。", "zh") == ["他说：“走吧。”", "然后离开了。"]


def test_newlines_break_paragraphs_but_not_wrapped_lines():
    text = "# Title\nA line that is long enough to be wrapped here\nand continues. Next one.\n\nNew"
    assert sentences(text) == [
        "# Title",
        "A line that is long enough to be wrapped here\nand continues.",
        "Next one.",
        "New",
    ]


def test_spans_are_trimmed_and_ordered():
    text = "  One.   Two.  "
    assert split_sentences(text, "en") == [(2, 6), (9, 13)]


@pytest.mark.parametrize(
    ("names", "key"),
    [
        (["OpenAI", "openai", "ＯｐｅｎＡＩ", "OPENAI"], "openai"),
        (["The United Nations", "united  nations", "United-Nations"], "united nations"),
        (["臺灣大學", "台湾大学", "台湾 大学"], "台湾大学"),
        (["Hall's", "HALL", "hall."], "hall"),
        (["U.S.", "US"], "us"),
    ],
)
def test_normalize_key_merges_spellings(names, key):
    assert {normalize_key(n) for n in names} == {key}


def test_normalize_key_keeps_distinct_names_apart():
    assert normalize_key("Paris Hilton") != normalize_key("Paris")
    assert normalize_key("北京") != normalize_key("南京")
