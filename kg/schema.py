"""The graph model's allow-list: every label, relationship type and indexed property.

Cypher never takes a label or type from user input; code formats only names from here.
"""

from __future__ import annotations

from typing import Final

DOCUMENT: Final = "Document"
CHUNK: Final = "Chunk"
ENTITY: Final = "Entity"
KEYPHRASE: Final = "Keyphrase"

HAS_CHUNK: Final = "HAS_CHUNK"
NEXT: Final = "NEXT"
PART_OF: Final = "PART_OF"
MENTIONS: Final = "MENTIONS"
HAS_KEYPHRASE: Final = "HAS_KEYPHRASE"
RELATION: Final = "RELATION"
SAME_AS: Final = "SAME_AS"

LABELS: Final = frozenset({DOCUMENT, CHUNK, ENTITY, KEYPHRASE})
RELATIONSHIP_TYPES: Final = frozenset(
    {HAS_CHUNK, NEXT, PART_OF, MENTIONS, HAS_KEYPHRASE, RELATION, SAME_AS}
)

# (label, property) pairs that are unique keys; each gets an index and a constraint.
UNIQUE_KEYS: Final = ((DOCUMENT, "id"), (CHUNK, "id"), (ENTITY, "key"), (KEYPHRASE, "key"))
# Further lookup indexes: documents by path (re-ingest, delete), chunks by document.
LOOKUP_INDEXES: Final = ((DOCUMENT, "path"), (CHUNK, "doc_id"))


def check_label(name: str) -> str:
    if name not in LABELS:
        raise ValueError(f"label {name!r} is not in the graph model")
    return name


def check_relationship(name: str) -> str:
    if name not in RELATIONSHIP_TYPES:
        raise ValueError(f"relationship type {name!r} is not in the graph model")
    return name
