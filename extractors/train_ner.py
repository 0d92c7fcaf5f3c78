"""Train small Chinese HanLP models locally (no pretrained weights needed).

A character-level BiLSTM NER trains in seconds on a few hundred labelled sentences and is
then loaded like any HanLP model (`build_annotator(hanlp_ner=<out>)`). The recipe avoids
HanLP 2.1.5's broken CRF layer (crf=False) and sets the tagging scheme explicitly.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kgrag.core.errors import ConfigError

_DEV_SHARE = 0.1


def read_ner_jsonl(data: Path) -> list[dict[str, list[str]]]:
    """Samples `{"token": [chars], "tag": [BIO tags]}` from the jsonl format of
    `train_zh_ner`. Raises ValueError naming the line for bad spans or overlaps."""
    samples: list[dict[str, list[str]]] = []
    for lineno, line in enumerate(Path(data).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        text: str = record["text"]
        tags = ["O"] * len(text)
        for start, end, label in record.get("entities", []):
            if not 0 <= start < end <= len(text):
                raise ConfigError(f"{data}:{lineno}: span [{start}, {end}) outside the text")
            if any(tag != "O" for tag in tags[start:end]):
                raise ConfigError(f"{data}:{lineno}: overlapping entities at [{start}, {end})")
            tags[start] = f"B-{label}"
            tags[start + 1 : end] = [f"I-{label}"] * (end - start - 1)
        samples.append({"token": list(text), "tag": tags})
    if not samples:
        raise ConfigError(f"{data}: no training sentences")
    return samples


def train_zh_ner(data: Path, out: Path, epochs: int = 50) -> Path:
    """Train a HanLP character NER (RNNNamedEntityRecognizer) and save it to `out`.

    `data` is jsonl, one sentence per line, entity spans as character offsets (end
    exclusive) with any type names, for example::

        {"text": "张三在北京大学工作。", "entities": [[0, 2, "PERSON"], [3, 7, "ORG"]]}

    A tenth of the sentences (at least one) is held out to pick the best epoch; with
    fewer than ten sentences the training set doubles as the dev set. Returns `out`,
    which `hanlp.load` (and `build_annotator(hanlp_ner=...)`) accepts.
    """
    from hanlp.components.ner.rnn_ner import RNNNamedEntityRecognizer

    samples = read_ner_jsonl(data)
    train, dev = _split(samples)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with _one_thread():
        RNNNamedEntityRecognizer().fit(
            train, dev, str(out), tagging_scheme="BIO", token_delimiter="", crf=False,
            devices=[], epochs=epochs, **_small_model(epochs),
        )
    return out


def train_zh_segmenter(data: Path, out: Path, epochs: int = 50) -> Path:
    """Train a HanLP BMES word segmenter (RNNTagger over characters) and save it to `out`.

    `data` is jsonl with one segmented sentence per line: `{"words": ["张三", "在", ...]}`.
    The saved model is a `hanlp_tok` for `build_annotator`.
    """
    from hanlp.components.taggers.rnn_tagger import RNNTagger

    samples: list[dict[str, list[str]]] = []
    for line in Path(data).read_text(encoding="utf-8").splitlines():
        if line.strip():
            words = [w for w in json.loads(line)["words"] if w]
            tags = [t for w in words for t in _bmes(len(w))]
            samples.append({"token": list("".join(words)), "tag": tags})
    if not samples:
        raise ConfigError(f"{data}: no training sentences")
    train, dev = _split(samples)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with _one_thread():
        RNNTagger().fit(
            train, dev, str(out), crf=False, devices=[], epochs=epochs, **_small_model(epochs)
        )
    return out


def _bmes(length: int) -> list[str]:
    return ["S"] if length == 1 else ["B", *["M"] * (length - 2), "E"]


def _split(samples: list[dict[str, list[str]]]) -> tuple[list[Any], list[Any]]:
    if len(samples) < 10:
        return samples, samples
    shuffled = samples[:]
    random.Random(0).shuffle(shuffled)
    n_dev = max(1, int(len(shuffled) * _DEV_SHARE))
    return shuffled[n_dev:], shuffled[:n_dev]


def _small_model(epochs: int) -> dict[str, Any]:
    """A small BiLSTM with a learning rate high enough for tiny data sets; patience is the
    whole run so early stopping does not cut a small set short; a fixed seed makes runs
    repeatable."""
    return {
        "embed": 50, "rnn_hidden": 64, "lr": 0.01, "batch_size": 16, "patience": epochs,
        "seed": 0, "verbose": False,
    }


@contextmanager
def _one_thread() -> Iterator[None]:
    """A model this small trains several times faster on one CPU thread than on many
    (thread hand-offs cost more than the arithmetic)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
