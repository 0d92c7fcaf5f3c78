from __future__ import annotations

import pytest

from kgrag.extractors.nlp_en import load_spacy
from kgrag.extractors.triples_en import sentence_frames
from kgrag.extractors.triples_zh import frames_from_srl, sentence_frames_zh
from kgrag.extractors.zh_tokens import jieba_tokenizer, pos_words


def en(text: str):
    doc = load_spacy()(text)
    return [f for sent in doc.sents for f in sentence_frames(sent)]


def zh(text: str):
    return sentence_frames_zh(text, pos_words(text, jieba_tokenizer()))


def triples(frames) -> set[tuple[str | None, str, str | None]]:
    return {(f.arg0, f.predicate, f.arg1) for f in frames}


def test_active_with_time_and_place_modifiers():
    (frame,) = en("Marie Curie discovered radium in Paris in 1898.")
    assert (frame.arg0, frame.predicate, frame.arg1) == ("Marie Curie", "discover", "radium")
    assert frame.args == {"ARGM-LOC": "in Paris", "ARGM-TMP": "in 1898"}
    assert not frame.negated


def test_passive_voice_agent_is_arg0():
    assert triples(en("The telephone was invented by Alexander Graham Bell.")) == {
        ("Alexander Graham Bell", "invent", "The telephone")
    }
    assert ("Steven Spielberg", "direct", "The film") in triples(
        en("The film was directed by Steven Spielberg and produced by George Lucas.")
    )


def test_coordinated_passive_shares_the_patient():
    found = triples(en("The film was directed by Steven Spielberg and produced by George Lucas."))
    assert ("George Lucas", "produce", "The film") in found


def test_relative_clauses_resolve_to_the_modified_noun():
    found = triples(en("The bridge, which was designed by Gustave Eiffel, opened in 1889."))
    assert ("Gustave Eiffel", "design", "The bridge") in found
    found = triples(en("The book that she wrote became famous."))
    assert ("she", "write", "The book") in found
    found = triples(en("Hall, who founded the journal, retired."))
    assert ("Hall", "found", "the journal") in found


def test_participle_modifier_is_a_passive_frame():
    found = triples(en("It is a journal published by the American Psychological Association."))
    assert ("the American Psychological Association", "publish", "a journal") in found


def test_conjoined_subjects_objects_and_verbs():
    found = triples(en("Alice and Bob founded Acme and Globex."))
    assert {("Alice", "found", "Acme"), ("Bob", "found", "Globex")} <= found
    found = triples(en("Hall founded and led the association."))
    assert {("Hall", "found", "the association"), ("Hall", "lead", "the association")} <= found
    found = triples(en("He studied at Harvard University and later taught at Yale."))
    assert {("He", "study at", "Harvard University"), ("He", "teach at", "Yale")} <= found


@pytest.mark.parametrize(
    ("text", "marker"),
    [("The company did not release the product.", "not"),
     ("Einstein never wore socks.", "never")],
)
def test_negation(text, marker):
    frames = [f for f in en(text) if f.arg1]
    assert len(frames) == 1 and frames[0].negated and frames[0].args["ARGM-NEG"] == marker


def test_x_of_y_copula_and_apposition():
    assert triples(en("Paris is the capital of France.")) == {("Paris", "capital of", "France")}
    found = triples(en("Jennifer Callahan, the editor of the journal, lives in Denton."))
    assert ("Jennifer Callahan", "editor of", "the journal") in found
    assert ("Jennifer Callahan", "live in", "Denton") in found


def test_dative_is_arg2():
    (frame,) = en("She gave her brother a book.")
    assert (frame.arg0, frame.predicate, frame.arg1) == ("She", "give", "a book")
    assert frame.args["ARG2"] == "her brother"


def test_manner_adverb():
    (frame,) = en("The team quickly solved the problem.")
    assert frame.args.get("ARGM-MNR") == "quickly"


def test_chinese_np_v_np_and_shared_subject():
    assert triples(zh("张三创办了阿里巴巴公司并担任董事长。")) == {
        ("张三", "创办", "阿里巴巴公司"), ("张三", "担任", "董事长")
    }
    assert triples(zh("李白出生于碎叶城，后来移居四川。")) == {
        ("李白", "出生于", "碎叶城"), ("李白", "移居", "四川")
    }


def test_chinese_passive_ba_and_negation():
    (passive,) = zh("这家公司被腾讯收购了。")
    assert (passive.arg0, passive.predicate, passive.arg1) == ("腾讯", "收购", "这家公司")
    (ba,) = zh("他把书放在桌子上。")
    assert (ba.arg0, ba.arg1) == ("他", "书")
    (negated,) = zh("苹果公司没有发布新手机。")
    assert negated.negated and negated.arg1 == "新手机"


def test_chinese_modifiers_coordination_and_titles():
    frames = zh("张三和李四于2010年在上海成立了一家公司。")
    assert triples(frames) == {("张三", "成立", "一家公司"), ("李四", "成立", "一家公司")}
    assert frames[0].args == {"ARGM-TMP": "于2010年", "ARGM-LOC": "在上海"}
    assert triples(zh("鲁迅写了《狂人日记》。")) == {("鲁迅", "写", "狂人日记")}


def test_hanlp_srl_output_becomes_frames():
    structures = [
        [("张三", "ARG0", 0, 1), ("创办", "PRED", 1, 2), ("公司", "ARG1", 3, 4),
         ("不", "ARGM-NEG", 0, 0), ("2010年", "ARGM-TMP", 0, 0)],
        [("走", "PRED", 0, 1)],  # no arguments: dropped
    ]
    (frame,) = frames_from_srl(structures)
    assert (frame.arg0, frame.predicate, frame.arg1) == ("张三", "创办", "公司")
    assert frame.negated and frame.args == {"ARGM-NEG": "不", "ARGM-TMP": "2010年"}
