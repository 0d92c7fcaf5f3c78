"""The HanLP path for real, with tiny models trained in the session fixture."""

from __future__ import annotations

import json
import time

import pytest

from kgrag.core.errors import ModelNotFoundError
from kgrag.extractors.annotator import build_annotator
from kgrag.extractors.hanlp_models import find_hanlp_model
from kgrag.extractors.train_ner import read_ner_jsonl
from tests.extractors.ex_helpers import entities_of


def test_trained_char_ner_loads_by_path_and_finds_entities(hanlp_dir):
    annotator = build_annotator(embedder=None, hanlp_ner=str(hanlp_dir / "ner_char"),
                                keyphrases=False, triples=False)
    assert annotator.backends["zh"] == "hanlp:ner_char"
    found = {(e.name, e.type) for e in entities_of(annotator, "张三在北京大学工作。")}
    assert found == {("张三", "PERSON"), ("北京大学", "ORG")}


def test_model_found_under_hanlp_home(hanlp_dir, monkeypatch):
    monkeypatch.setenv("HANLP_HOME", str(hanlp_dir))
    assert find_hanlp_model("ner_char") == hanlp_dir / "ner_char"
    annotator = build_annotator(embedder=None, hanlp_ner="ner_char", keyphrases=False,
                                triples=False)
    assert {e.name for e in entities_of(annotator, "李四住在上海。")} == {"李四", "上海"}


def test_segmenter_feeds_word_level_ner(hanlp_dir):
    annotator = build_annotator(
        embedder=None, hanlp_ner=str(hanlp_dir / "ner_word"), hanlp_tok=str(hanlp_dir / "tok"),
        keyphrases=False, triples=False,
    )
    assert annotator.backends["zh"] == "hanlp:ner_word+tok:tok"
    text = "王五访问了清华大学。"
    mentions = {(e.name, e.type) for e in entities_of(annotator, text)}
    assert mentions == {("王五", "PERSON"), ("清华大学", "ORG")}


def test_hanlp_spans_map_to_document_offsets(hanlp_dir):
    from kgrag.extractors.chunking import FixedChunker
    from tests.extractors.ex_helpers import make_doc

    annotator = build_annotator(embedder=None, hanlp_ner=str(hanlp_dir / "ner_char"),
                                keyphrases=False, triples=False)
    doc = make_doc("Intro line in English.\n\n赵六来自广州。张三在北京大学工作。")
    (annotations,) = annotator.annotate([(doc, FixedChunker().chunk(doc), None)])
    spans = {doc.text[a:b] for a, b in (m.span for m in annotations.mentions)}
    assert {"赵六", "广州", "张三", "北京大学"} <= spans


def test_missing_model_fails_fast_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("HANLP_HOME", str(tmp_path))
    start = time.perf_counter()
    for spec in ("MSRA_NER_ELECTRA_SMALL_ZH", str(tmp_path / "nope"), "no_such_model"):
        with pytest.raises(ModelNotFoundError, match="not found locally"):
            build_annotator(embedder=None, hanlp_ner=spec)
    with pytest.raises(ModelNotFoundError, match="not found locally"):
        build_annotator(embedder=None, hanlp_srl="CPB3_SRL_ELECTRA_SMALL")
    assert time.perf_counter() - start < 5  # no download retries


def test_training_data_is_validated(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "张三", "entities": [[0, 5, "PERSON"]]}), encoding="utf-8")
    with pytest.raises(ValueError, match="outside the text"):
        read_ner_jsonl(bad)
    samples = read_ner_jsonl(_write(tmp_path, {"text": "张三好", "entities": [[0, 2, "PER"]]}))
    assert samples == [{"token": ["张", "三", "好"], "tag": ["B-PER", "I-PER", "O"]}]


def _write(tmp_path, record):
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n\n", encoding="utf-8")
    return path
