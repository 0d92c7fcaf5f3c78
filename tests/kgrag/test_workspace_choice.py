"""KGRAG_EMBED_MODEL=auto: a new workspace's embedder follows the languages of its files."""

from __future__ import annotations

from pathlib import Path

from kgrag.core.settings import Settings
from kgrag.extractors.embed import ENGLISH_EMBED_MODEL, MULTILINGUAL_EMBED_MODEL
from kgrag.indexing.languages import needs_chinese, sample_languages
from kgrag.workspace import choose_embed_model, load_config, load_or_create_config

ENGLISH = "Marie Curie discovered polonium and radium with Pierre Curie in Paris.\n"
CHINESE = "屠呦呦从黄花蒿中提取青蒿素，挽救了数百万疟疾患者的生命。\n"


def _folder(root: Path, texts: list[str]) -> Path:
    root.mkdir()
    for n, text in enumerate(texts):
        (root / f"doc{n}.txt").write_text(text * 5, encoding="utf-8")
    return root


def test_english_files_keep_the_fast_english_model(tmp_path: Path):
    folder = _folder(tmp_path / "en", [ENGLISH, ENGLISH])
    assert choose_embed_model("auto", "w", folder) == ENGLISH_EMBED_MODEL


def test_chinese_or_mixed_files_get_the_multilingual_model(tmp_path: Path):
    chinese = _folder(tmp_path / "zh", [CHINESE])
    mixed = _folder(tmp_path / "mixed", [ENGLISH, ENGLISH, ENGLISH, CHINESE])
    assert choose_embed_model("auto", "w", chinese) == MULTILINGUAL_EMBED_MODEL
    assert choose_embed_model("auto", "w", mixed) == MULTILINGUAL_EMBED_MODEL
    counts = sample_languages(mixed)
    assert counts["en"] > counts["zh"] > 0 and needs_chinese(counts)


def test_a_named_model_is_kept_and_nothing_to_sample_means_english(tmp_path: Path):
    folder = _folder(tmp_path / "zh", [CHINESE])
    assert choose_embed_model("my/model", "w", folder) == "my/model"
    assert choose_embed_model("auto", "w", None) == ENGLISH_EMBED_MODEL


def test_the_choice_is_stored_once_and_later_files_do_not_change_it(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    first = load_or_create_config(settings, "ws", _folder(tmp_path / "zh", [CHINESE]))
    later = load_or_create_config(settings, "ws", _folder(tmp_path / "en", [ENGLISH]))
    assert first.embed_model == later.embed_model == MULTILINGUAL_EMBED_MODEL
    stored = load_config(settings, "ws")
    assert stored is not None and stored.embed_model == MULTILINGUAL_EMBED_MODEL
