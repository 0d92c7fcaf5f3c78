"""Query-side analysis: the entities and candidate phrases of a question, from the same
language tools that annotate documents, and no model call beyond the parse."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kgrag.core.types import Entity, Lang
from kgrag.extractors.annotation_parts import LanguageAnnotator, entities_from_spans
from kgrag.extractors.lang import detect_lang


@dataclass
class QueryTerms:
    text: str
    lang: Lang
    entities: list[Entity] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)

    def candidates(self) -> list[str]:
        """Distinct surface strings to link: entities first, then candidate phrases."""
        seen: dict[str, None] = {}
        for text in [e.name for e in self.entities] + self.phrases:
            if text.strip():
                seen.setdefault(text.strip(), None)
        return list(seen)


class QueryAnalyzer:
    def __init__(self, annotators: Mapping[Lang, LanguageAnnotator]) -> None:
        self._annotators = annotators

    def analyze(self, text: str, lang: Lang | None = None) -> QueryTerms:
        """`lang` when the caller has detected it already."""
        lang = lang or detect_lang(text)
        spans, phrases = self._annotators[lang].query_terms(text)
        return QueryTerms(text, lang, list(entities_from_spans(spans, lang).values()), phrases)
