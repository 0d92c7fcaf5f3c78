"""Shared fixtures: real models from installed packages, loaded once per session, and
tiny HanLP models trained here (seconds) so the HanLP backend runs for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HANLP_SENTENCES = [
    ("张三在北京大学工作。", [(0, 2, "PERSON"), (3, 7, "ORG")]),
    ("李四住在上海。", [(0, 2, "PERSON"), (4, 6, "LOC")]),
    ("王五访问了清华大学。", [(0, 2, "PERSON"), (5, 9, "ORG")]),
    ("赵六来自广州。", [(0, 2, "PERSON"), (4, 6, "LOC")]),
    ("张三和李四去了南京。", [(0, 2, "PERSON"), (3, 5, "PERSON"), (7, 9, "LOC")]),
]
HANLP_WORDS = [
    ["张三", "在", "北京大学", "工作", "。"],
    ["李四", "住", "在", "上海", "。"],
    ["王五", "访问", "了", "清华大学", "。"],
    ["赵六", "来自", "广州", "。"],
    ["张三", "和", "李四", "去", "了", "南京", "。"],
]


@pytest.fixture(scope="session")
def embedder():
    from kgrag.extractors.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def annotator(embedder):
    from kgrag.extractors.annotator import build_annotator

    return build_annotator(embedder=embedder)


@pytest.fixture(scope="session")
def hanlp_dir(tmp_path_factory) -> Path:
    """A HANLP_HOME-like folder with a char NER ("ner_char"), a BMES segmenter ("tok")
    and a word-level NER ("ner_word"), all trained from the five sentences above."""
    import torch
    from hanlp.components.ner.rnn_ner import RNNNamedEntityRecognizer

    from kgrag.extractors.train_ner import train_zh_ner, train_zh_segmenter

    root = tmp_path_factory.mktemp("hanlp")
    ner_data = root / "ner.jsonl"
    ner_data.write_text(
        "\n".join(
            json.dumps({"text": t, "entities": [list(e) for e in ents]}, ensure_ascii=False)
            for t, ents in HANLP_SENTENCES * 6
        ),
        encoding="utf-8",
    )
    train_zh_ner(ner_data, root / "ner_char", epochs=40)
    tok_data = root / "tok.jsonl"
    tok_data.write_text(
        "\n".join(json.dumps({"words": w}, ensure_ascii=False) for w in HANLP_WORDS * 6),
        encoding="utf-8",
    )
    train_zh_segmenter(tok_data, root / "tok", epochs=40)
    word_samples = []
    for words, (text, ents) in zip(HANLP_WORDS, HANLP_SENTENCES, strict=True):
        starts, pos = [], 0
        for w in words:
            starts.append(pos)
            pos += len(w)
        tags = ["O"] * len(words)
        for a, b, label in ents:
            first = starts.index(a)
            tags[first] = f"B-{label}"
            for k in range(first + 1, len(words)):
                if starts[k] < b:
                    tags[k] = f"I-{label}"
        assert "".join(words) == text
        word_samples.append({"token": words, "tag": tags})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        RNNNamedEntityRecognizer().fit(
            word_samples * 6, word_samples, str(root / "ner_word"), tagging_scheme="BIO",
            token_delimiter="", crf=False, devices=[], epochs=40, embed=50, rnn_hidden=64,
            lr=0.01, batch_size=16, patience=40, seed=0, verbose=False,
        )
    finally:
        torch.set_num_threads(threads)
    return root
