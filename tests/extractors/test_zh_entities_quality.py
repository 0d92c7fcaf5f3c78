"""Chinese entities a reader can trust: Latin-script terms kept whole and named, common
nouns that jieba's dictionary tags as names (索引 "person", 长度 "place") left out, and
acronyms never people."""

from __future__ import annotations

import pytest

from kgrag.extractors.chunking import FixedChunker
from kgrag.extractors.entities import JiebaEntities
from kgrag.extractors.normalize import normalize_key
from kgrag.extractors.zh_names import COMMON_WORDS, person_shaped, place_shaped
from kgrag.extractors.zh_tokens import jieba_tokenizer, latin_name, pos_words
from tests.extractors.ex_helpers import make_doc

TERMS = ["vLLM", "llama.cpp", "Self-RAG", "RAG-Fusion", "RAG Fusion", "GPT-4"]
HANDBOOK = (
    "# RAG\n\n"
    "RAG 的索引使用余弦相似度衡量向量之间的距离，序列长度和网络深度都会影响效果。\n"
    "我们用 vLLM 和 llama.cpp 部署 GPT-4 级别的模型，Self-RAG 与 RAG Fusion、RAG-Fusion "
    "都是检索增强方法。\n"
    "马云在杭州创办了阿里巴巴，达摩院是它的研究机构。\n"
)
COMMON = ["索引", "余弦", "长度", "深度", "RAG"]


def _entities(text: str) -> dict[str, str]:
    words = pos_words(text, jieba_tokenizer(None))
    return {e.text: e.label for e in JiebaEntities().recognize([text], [words])[0]}


def test_latin_terms_are_one_word():
    text = "我们用vLLM和llama.cpp部署模型，Self-RAG与RAG-Fusion、RAG Fusion和GPT-4对比。"
    words = [w.text for w in pos_words(text, jieba_tokenizer(None))]
    assert set(TERMS) <= set(words)
    assert "GPT" not in words and "cpp" not in words and "Self" not in words


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("使用 Llama 2 模型", "Llama 2"),
        ("RAG 2023年提出", "RAG"),  # a year is not part of the name
        ("C++与C#都可以", "C++"),
        ("在 Hugging Face TGI 上", "Hugging Face TGI"),
    ],
)
def test_latin_term_edges(text: str, term: str):
    assert term in [w.text for w in pos_words(text, jieba_tokenizer(None))]


def test_latin_terms_are_entities_not_people():
    found = _entities(HANDBOOK.split("\n")[3])
    assert {term: found.get(term) for term in TERMS} == dict.fromkeys(TERMS, "MISC")
    assert _entities("RAG索引很快。") == {"RAG": "MISC"}  # not one "person" RAG索引


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("在这一章里我们介绍知识图谱（Knowledge Graph）。", "知识图谱"),
        ("我们使用大语言模型（LLM）来回答。", "大语言模型"),  # an acronym: one word a capital
        ("检索增强生成（Retrieval-Augmented Generation，RAG）很常用。", "检索增强生成"),
        ("余弦相似度（Cosine Similarity）衡量距离。", "余弦相似度"),  # 度: a suffix
    ],
)
def test_terms_defined_with_an_english_gloss_are_entities(text: str, term: str):
    found = _entities(text)
    assert found.get(term) == "MISC"
    assert not [t for t in found if t != term and t in term]  # not in pieces


def test_a_lowercase_gloss_defines_nothing():
    assert "余弦相似度" not in _entities("余弦相似度（cosine similarity）衡量距离。")
    assert "新闻" not in _entities("专家告诉澎湃新闻(www.thepaper.cn)。")  # an address


def test_lowercase_latin_words_are_not_names():
    assert latin_name("vLLM") and latin_name("gpt-4o") and latin_name("llama.cpp")
    assert not latin_name("token") and not latin_name("self-attention")


def test_common_nouns_are_not_people_or_places():
    found = _entities(HANDBOOK.split("\n")[2])
    assert not {word: found[word] for word in COMMON if found.get(word) in ("PERSON", "GPE")}


def test_names_keep_their_types():
    found = _entities("马云在杭州创办了阿里巴巴。习近平会见拜登。贝克汉姆和居里夫人。")
    people = ("马云", "习近平", "拜登", "贝克汉姆", "居里夫人")
    assert {k: found.get(k) for k in people} == dict.fromkeys(people, "PERSON")
    found = _entities("达摩院在曼哈顿，杭州也有。")
    assert (found.get("杭州"), found.get("曼哈顿"), found.get("达摩院")) == ("GPE", "GPE", "ORG")


def test_adjacent_names_merge_only_into_one_name():
    assert _entities("中新网南京7月28日电") == {"中新网": "MISC", "南京": "GPE"}  # dateline
    assert _entities("他去了湖北蕲春县。") == {"湖北蕲春县": "GPE"}
    assert _entities("中国人民银行发布公告。") == {"中国人民银行": "ORG"}


def test_a_person_tag_without_a_persons_shape_names_a_thing_or_nothing():
    found = _entities("屠呦呦发现了青蒿素。各方大力支持，消息广泛传播，大家都明白。")
    assert found.get("青蒿素") == "MISC"  # jieba: 青蒿素/nr
    assert not {"大力支持", "广泛传播", "明白"} & set(found)  # two words; a common word


def test_name_shapes():
    assert person_shaped("欧阳修") and person_shaped("张三") and person_shaped("伊涅斯塔")
    assert not person_shaped("广泛传播") and not person_shaped("余弦") and not person_shaped("索引")
    assert not place_shaped("长度") and not place_shaped("多维度") and place_shaped("曼哈顿")


def test_every_common_word_is_one_jieba_tags_as_a_name():
    """The list holds only words that need it."""
    import jieba.posseg

    tags = jieba.posseg.dt.word_tag_tab
    assert not [w for w in COMMON_WORDS if not tags.get(w, "").startswith(("nr", "ns"))]


def test_annotated_handbook_types(annotator):
    """The whole path: a Chinese document whose heading line is English (spaCy reads it)."""
    doc = make_doc(HANDBOOK, path="mem/handbook.md")
    assert doc.lang == "zh"
    results = annotator.annotate([(doc, FixedChunker(max_chars=2000).chunk(doc), None)])
    types = {e.name: e.type for r in results for e in r.entities}
    assert {k: v for k, v in types.items() if k in COMMON and v in ("PERSON", "GPE")} == {}
    keys = {e.key for r in results for e in r.entities}
    assert {normalize_key(t) for t in TERMS} <= keys  # RAG-Fusion and RAG Fusion: one key
    assert types["马云"] == "PERSON" and types["杭州"] == "GPE"
