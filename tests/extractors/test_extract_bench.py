"""The extraction bench's scoring and its labelled sets (the full bench is not run here)."""

from __future__ import annotations

import pytest

from kgrag.bench.extract import (
    arg_matches,
    load_labelled,
    match_triples,
    predicate_matches,
    prf,
    render,
    score_quality,
)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_labelled_sets_are_well_formed(lang):
    rows = load_labelled(lang)
    assert len(rows) >= 60
    for row in rows:
        assert all(name in row["text"] for name, _ in row["entities"])
        for arg0, predicate, arg1 in row["triples"]:
            assert predicate and (arg0 or arg1)


def test_prf():
    assert prf(2, 4, 8) == {"p": 0.5, "r": 0.25, "f1": 0.3333}
    assert prf(0, 0, 3) == {"p": 0.0, "r": 0.0, "f1": 0.0}


def test_matching_rules():
    assert arg_matches("the Eiffel Tower", "The Eiffel Tower", "en")
    assert arg_matches("The film Titanic", "Titanic", "en")
    assert not arg_matches("Titanic", "Titan", "en")  # whole words only
    assert arg_matches(None, None, "en") and not arg_matches(None, "x", "en")
    assert arg_matches("中国的首都", "首都", "zh")
    assert predicate_matches("work", "work at", "en")
    assert not predicate_matches("work", "walk", "en")
    assert predicate_matches("出生", "出生于", "zh")
    gold = [("A", "found", "B"), ("A", "lead", "B")]
    pred = [("A", "found", "B"), ("A", "found", "B"), ("C", "lead", "B")]
    assert match_triples(gold, pred, "en") == 1  # one-to-one
    assert match_triples(gold, pred, "en", predicate_only=True) == 2


def test_score_quality_on_a_few_rows(annotator):
    rows = load_labelled("en")[:5]
    result = score_quality(annotator, "en", rows)
    assert result["sentences"] == 5 and result["backend"].startswith("spacy:")
    assert result["entities"]["f1"] > 0.5 and result["triples"]["f1"] > 0.5
    table = render({"quality": {"en": result}, "env": {"cpus": 2}})
    assert table.splitlines()[2].startswith("| en | spacy:")
