"""Choosing how a question is answered (the rest is in test_client, against real stores)."""

import pytest

from kgrag.answering import answer_method
from kgrag.core.errors import ConfigError
from kgrag.core.settings import load_settings


def test_answer_methods_are_checked_by_name():
    assert answer_method("llm") == "llm"
    assert answer_method(" Evidence ") == "evidence"
    with pytest.raises(ConfigError, match="unknown answer 'poem': use one of llm, evidence"):
        answer_method("poem")


def test_answer_settings_are_validated(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KGRAG_ANSWER_STYLE", "short")
    monkeypatch.setenv("KGRAG_REFUSE_BELOW", "0.42")
    settings = load_settings()
    assert (settings.answer_style, settings.refuse_below) == ("short", 0.42)
    monkeypatch.setenv("KGRAG_ANSWER_STYLE", "haiku")
    with pytest.raises(ConfigError, match="KGRAG_ANSWER_STYLE"):
        load_settings()
