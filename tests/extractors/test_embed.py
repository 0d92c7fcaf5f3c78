"""The two embedder families behind one interface, with the real shipped models."""

from __future__ import annotations

import numpy as np
import pytest

from kgrag.core.errors import ModelNotFoundError
from kgrag.extractors.embed import (
    AUTO_EMBED_MODEL,
    ENGLISH_EMBED_MODEL,
    MULTILINGUAL_EMBED_MODEL,
    E5Embedder,
    SentenceEmbedder,
    load_embedder,
)


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    embedder = load_embedder(MULTILINGUAL_EMBED_MODEL)
    assert isinstance(embedder, E5Embedder)
    return embedder


@pytest.fixture(scope="module")
def minilm() -> SentenceEmbedder:
    embedder = load_embedder(ENGLISH_EMBED_MODEL)
    assert isinstance(embedder, SentenceEmbedder)
    return embedder


def _cos(embedder: E5Embedder | SentenceEmbedder, a: str, b: str) -> float:
    va, vb = embedder.encode_queries([a, b])
    return float(va @ vb)


def test_e5_vectors_are_unit_length_and_prefixed_by_role(e5: E5Embedder):
    text = "居里夫人发现了钋和镭。"
    passage = e5.encode([text])
    query = e5.encode_queries([text])
    assert passage.shape == query.shape == (1, e5.dim)
    assert np.allclose(np.linalg.norm(passage, axis=1), 1.0, atol=1e-3)
    # "passage: " and "query: " prefixes give different vectors of the same text.
    assert float(passage[0] @ query[0]) < 0.999
    assert e5.encode([]).shape == (0, e5.dim)


def test_e5_finds_the_chinese_passage_that_minilm_cannot_tell_apart(
    e5: E5Embedder, minilm: SentenceEmbedder
):
    passages = [
        "青蒿素由屠呦呦从黄花蒿中提取，用于治疗疟疾。",
        "长城是中国古代修建的军事防御工程。",
    ]
    question = "谁提取了青蒿素？"
    scores = e5.encode(passages) @ e5.encode_queries([question])[0]
    assert scores[0] > scores[1]
    assert e5.reads_chinese and not minilm.reads_chinese


def test_name_threshold_separates_synonyms_from_unrelated_names(e5: E5Embedder):
    assert _cos(e5, "居里夫人", "玛丽·居里") > e5.name_threshold
    assert _cos(e5, "Barack Obama", "Obama") > e5.name_threshold
    assert _cos(e5, "阿联酋", "阿迪达斯") < e5.name_threshold
    assert _cos(e5, "New York", "Paris") < e5.name_threshold


def test_auto_is_not_a_model_and_unknown_models_are_not_downloaded():
    with pytest.raises(ModelNotFoundError, match="chosen per workspace"):
        load_embedder(AUTO_EMBED_MODEL)
    with pytest.raises(ModelNotFoundError, match="nothing is downloaded"):
        load_embedder("no-such-org/no-such-model")
