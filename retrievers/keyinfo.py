"""The key-information index: a two-level index whose first level is what a passage is
about, and whose second level is the raw passage the reader gets, one to one.

A chunk's key information is its entity names, its key phrases and the "who did what to
whom" triples of its sentences as short "subject predicate object" phrases, taken from
the annotations ingestion writes to the graph (`ChunkAnnotations`). Ingestion embeds that
string as the chunk's point in the workspace's key-information collection
(`VectorIndex.upsert_keyinfo`); `KeyinfoRetriever` searches it with the question's vector
and returns the chunks the nearest points name. A question then matches the facts of a
passage without the wording around them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from kgrag.core.errors import ConfigError
from kgrag.core.types import ChunkAnnotations, Document, Lang, Triple
from kgrag.retrievers.base import Query, Ranking, SubRetriever
from kgrag.retrievers.vector_index import KeyinfoRecord, VectorIndex

# Chinese words are not separated by spaces, English ones are; the items of a list are
# separated by a semicolon either way, and the three lists by a line break.
_WORD_GAP: dict[Lang, str] = {"en": " ", "zh": ""}
_NOT: dict[Lang, str] = {"en": "not ", "zh": "不"}
_ITEM_GAP = "; "


def key_information(annotations: ChunkAnnotations, lang: Lang = "en") -> str:
    """Entity names, then key phrases not already named, then one phrase per triple
    ("subject [not] predicate object extra-arguments"), each list deduplicated (case
    aside) and in the annotations' order; "" when the chunk has none of them."""
    names = _unique(e.name for e in annotations.entities)
    named = {n.casefold() for n in names}
    phrases = _unique(k.text for k in annotations.keyphrases if k.text.casefold() not in named)
    facts = _unique(_triple_phrase(t, lang) for t in annotations.triples)
    return "\n".join(_ITEM_GAP.join(items) for items in (names, phrases, facts) if items)


def _triple_phrase(triple: Triple, lang: Lang) -> str:
    predicate = _NOT[lang] + triple.predicate if triple.negated else triple.predicate
    parts = [triple.arg0, predicate, triple.arg1, *(triple.args[r] for r in sorted(triple.args))]
    return _WORD_GAP[lang].join(p.strip() for p in parts if p and p.strip())


def _unique(texts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        text = " ".join(text.split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def keyinfo_records(doc: Document, annotations: Sequence[ChunkAnnotations]) -> list[KeyinfoRecord]:
    """The key-information points of a document's reader chunks (annotations are per
    reader chunk); a chunk with no key information gets none."""
    records = [
        KeyinfoRecord(a.chunk_id, doc.id, key_information(a, doc.lang), doc.lang)
        for a in annotations
    ]
    return [r for r in records if r.text]


class KeyinfoRetriever(SubRetriever):
    """Chunks ranked by the cosine of their key information to the question.

    `indexed`: whether the workspace keeps the index (a choice of its first ingestion).
    Asking one that does not is a ConfigError rather than an empty ranking, so that a
    mode including this retriever says why it finds nothing."""

    name: ClassVar[str] = "keyinfo"

    def __init__(self, vectors: VectorIndex, indexed: bool) -> None:
        self.vectors = vectors
        self.indexed = indexed

    def retrieve(self, query: Query, k: int) -> Ranking:
        if not self.indexed:
            raise ConfigError(
                f"workspace {self.vectors.workspace!r} has no key-information index: it is "
                "chosen at a workspace's first ingestion (KGRAG_KEYINFO_INDEX=true)"
            )
        return Ranking(self.vectors.search_keyinfo(query.vector(), k))
