"""`GraphStore`: the one interface the rest of kgrag uses to reach the graph.

Adapters implement `run` (one parameterised statement) and `_apply_schema_step`; every
higher-level operation here is written once, in Cypher both backends accept.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

from kgrag.core.records import ChunkRecord, DocumentRecord, DocumentStats, EntityRecord
from kgrag.core.types import Chunk, ChunkAnnotations, Document
from kgrag.kg import queries as q
from kgrag.kg.dialect import Backend, SchemaStep, schema_steps
from kgrag.kg.triple_links import link_triples

Row = dict[str, Any]

WRITE_BATCH = 2_000
DEFAULT_HUB_THRESHOLD = 50


def batched(rows: Sequence[Row], size: int = WRITE_BATCH) -> Iterable[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class GraphStore(ABC):
    backend: Backend
    graph_name: str

    @abstractmethod
    def run(self, query: str, params: dict[str, Any] | None = None) -> list[Row]:
        """Execute one statement with parameters and return its rows as dicts."""

    @abstractmethod
    def _apply_schema_step(self, step: SchemaStep) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ schema
    def ensure_schema(self) -> None:
        for step in schema_steps(self.backend, self.graph_name):
            self._apply_schema_step(step)

    def _write(self, query: str, rows: Sequence[Row]) -> None:
        for batch in batched(rows):
            self.run(query, {"rows": list(batch)})

    # ------------------------------------------------------------ writes
    def upsert_document(
        self, doc: Document, chunks: Sequence[Chunk], ner_backend: str = ""
    ) -> None:
        """Document, its chunks, HAS_CHUNK, NEXT (level-0 reading order) and PART_OF."""
        self._write(
            q.UPSERT_DOCUMENTS,
            [
                {
                    "id": doc.id,
                    "path": doc.path,
                    "title": doc.title,
                    "lang": doc.lang,
                    "sha256": doc.sha256,
                    "ingested_at": int(time.time()),
                    "format": str(doc.meta.get("format", "")),
                    "ner_backend": ner_backend,
                    "size": doc.meta.get("size"),
                    "mtime_ns": doc.meta.get("mtime_ns"),
                }
            ],
        )
        self._write(
            q.UPSERT_CHUNKS,
            [
                {
                    "id": c.id,
                    "doc_id": c.doc_id,
                    "idx": c.idx,
                    "text": c.text,
                    "level": c.level,
                    "span_start": c.span[0],
                    "span_end": c.span[1],
                }
                for c in chunks
            ],
        )
        top = sorted((c for c in chunks if c.level == 0), key=lambda c: c.span)
        self._write(q.LINK_NEXT, [{"src": a.id, "dst": b.id} for a, b in pairwise(top)])
        self._write(
            q.LINK_PART_OF,
            [{"child": c.id, "parent": c.parent_id} for c in chunks if c.parent_id],
        )

    def upsert_annotations(
        self,
        doc_id: str,
        annotations: Sequence[ChunkAnnotations],
        hub_threshold: int = DEFAULT_HUB_THRESHOLD,
    ) -> None:
        """Entities, mentions, keyphrases and relations; mention counts refreshed after."""
        entities: dict[str, Row] = {}
        mentions: dict[tuple[str, str], list[int]] = {}
        keyphrases: list[Row] = []
        relations: list[Row] = []
        for ann in annotations:
            for ent in ann.entities:
                entities.setdefault(
                    ent.key, {"key": ent.key, "name": ent.name, "type": ent.type, "lang": ent.lang}
                )
            for men in ann.mentions:
                mentions.setdefault((men.chunk_id, men.entity_key), []).append(men.span[0])
            keyphrases.extend(
                {"chunk_id": ann.chunk_id, "key": kp.key, "text": kp.text, "score": kp.score}
                for kp in ann.keyphrases
            )
            relations.extend(
                {
                    "src": src,
                    "dst": dst,
                    "predicate": triple.predicate,
                    "chunk_id": triple.chunk_id,
                    "sentence": triple.sentence,
                    "negated": triple.negated,
                    "args": [f"{role}: {text}" for role, text in sorted(triple.args.items())],
                    "span_start": triple.span[0],
                    "span_end": triple.span[1],
                    "doc_id": doc_id,
                }
                for src, dst, triple in link_triples(ann)
            )
        self._write(q.UPSERT_ENTITIES, list(entities.values()))
        self._write(
            q.UPSERT_MENTIONS,
            [
                {"chunk_id": c, "key": k, "count": len(starts), "starts": sorted(starts)}
                for (c, k), starts in mentions.items()
            ],
        )
        self._write(q.UPSERT_KEYPHRASES, keyphrases)
        self._write(q.UPSERT_RELATIONS, relations)
        self.refresh_mention_counts(list(entities), hub_threshold)

    def mark_complete(self, doc_id: str) -> None:
        """Set last, after vectors, chunks and annotations: a document without this flag
        was interrupted and is indexed again by the next run."""
        self.run(q.MARK_DOCUMENT_COMPLETE, {"doc_id": doc_id})

    def refresh_mention_counts(
        self, keys: Sequence[str], hub_threshold: int = DEFAULT_HUB_THRESHOLD
    ) -> None:
        for start in range(0, len(keys), WRITE_BATCH):
            self.run(
                q.REFRESH_MENTION_COUNTS,
                {"keys": list(keys[start : start + WRITE_BATCH]), "hub_threshold": hub_threshold},
            )

    def upsert_same_as(self, pairs: Sequence[tuple[str, str, float]]) -> None:
        self._write(q.UPSERT_SAME_AS, [{"src": a, "dst": b, "score": s} for a, b, s in pairs])

    def delete_same_as(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._write(q.DELETE_SAME_AS, [{"src": a, "dst": b} for a, b in pairs])

    # ------------------------------------------------------------ deletes
    def delete_document(self, doc_id: str, hub_threshold: int = DEFAULT_HUB_THRESHOLD) -> None:
        """Remove a document, its chunks, mentions, keyphrase links and relation provenance,
        then entities and keyphrases nothing mentions any more. Each step is idempotent, so
        a delete interrupted half-way is finished by running it again."""
        params = {"doc_id": doc_id}
        entity_keys = [r["key"] for r in self.run(q.DOCUMENT_ENTITY_KEYS, params)]
        keyphrase_keys = [r["key"] for r in self.run(q.DOCUMENT_KEYPHRASE_KEYS, params)]
        self.run(q.DELETE_DOCUMENT_RELATIONS, params)
        self.run(q.DELETE_DOCUMENT_CHUNKS, params)
        self.run(q.DELETE_DOCUMENT, params)
        if entity_keys:
            self.run(q.DELETE_ORPHAN_ENTITIES, {"keys": entity_keys})
            self.refresh_mention_counts(entity_keys, hub_threshold)
        if keyphrase_keys:
            self.run(q.DELETE_ORPHAN_KEYPHRASES, {"keys": keyphrase_keys})

    def set_document_stats(self, stats: Sequence[tuple[str, int, int]]) -> None:
        """(document id, size, mtime_ns) of files found unchanged: what the next run
        compares them with before reading them."""
        rows = [{"id": i, "size": size, "mtime_ns": mtime} for i, size, mtime in stats]
        if rows:
            self._write(q.SET_DOCUMENT_STATS, rows)

    def clear(self) -> None:
        self.run(q.DELETE_ALL)

    def mark_resolved(self, keys: Sequence[str], resolved: bool = True) -> None:
        """Set after an entity's name vector and SAME_AS edges are written; cleared to
        have them written again."""
        query = q.MARK_ENTITIES_RESOLVED if resolved else q.MARK_ENTITIES_UNRESOLVED
        for start in range(0, len(keys), WRITE_BATCH):
            self.run(query, {"keys": list(keys[start : start + WRITE_BATCH])})

    # ------------------------------------------------------------ reads
    def documents_by_path(self, path: str) -> list[DocumentRecord]:
        return [_document(r) for r in self.run(q.DOCUMENTS_BY_PATH, {"path": path})]

    def documents_by_paths(self, paths: Sequence[str]) -> dict[str, list[DocumentRecord]]:
        """Every stored version of each of `paths`, in one query (a path with none is
        absent): planning a batch of files costs one round trip, not one per file."""
        found: dict[str, list[DocumentRecord]] = {}
        for row in self.run(q.DOCUMENTS_BY_PATHS, {"paths": list(paths)}):
            record = _document(row)
            found.setdefault(record.path, []).append(record)
        return found

    def document(self, doc_id: str) -> DocumentRecord | None:
        rows = self.run(q.DOCUMENT_BY_ID, {"doc_id": doc_id})
        return _document(rows[0]) if rows else None

    def documents(self) -> list[DocumentRecord]:
        """Every document, complete or not, ordered by path."""
        return [_document(r) for r in self.run(q.ALL_DOCUMENTS)]

    def chunk_ids(self) -> set[str]:
        return {r["id"] for r in self.run(q.CHUNK_IDS)}

    def reader_chunks(self) -> dict[str, str]:
        """Chunk id -> document id of every level-0 chunk (the ones that have vectors)."""
        return {str(r["id"]): str(r["doc_id"]) for r in self.run(q.READER_CHUNKS)}

    def chunks(self, ids: Sequence[str]) -> dict[str, ChunkRecord]:
        if not ids:
            return {}
        return {
            r["id"]: ChunkRecord(
                id=str(r["id"]),
                doc_id=str(r["doc_id"]),
                text=str(r["text"]),
                level=int(r["level"] or 0),
                span=(int(r["span_start"] or 0), int(r["span_end"] or 0)),
                path=str(r["path"] or ""),
                title=str(r["title"] or ""),
            )
            for r in self.run(q.CHUNKS_BY_ID, {"ids": list(ids)})
        }

    def chunk_titles(
        self, ids: Sequence[str], with_text: Sequence[str] = ()
    ) -> dict[str, tuple[str, str, str]]:
        """Chunk id -> (document id, document title, text); the text only for the chunks
        in `with_text` ("" for the others), so that many titles cost no texts."""
        if not ids:
            return {}
        params = {"ids": list(ids), "with_text": list(with_text)}
        return {
            str(r["id"]): (str(r["doc_id"]), str(r["title"] or ""), str(r["text"] or ""))
            for r in self.run(q.CHUNK_TITLES, params)
        }

    def entities(self, keys: Sequence[str]) -> dict[str, EntityRecord]:
        if not keys:
            return {}
        return {
            r["key"]: _entity(r) for r in self.run(q.ENTITIES_BY_KEY, {"keys": list(keys)})
        }

    def entity_keys(self) -> set[str]:
        return {str(r["key"]) for r in self.run(q.ENTITY_KEYS)}

    def same_as_names(self) -> list[tuple[str, str, str, str]]:
        """Every SAME_AS edge as (source key, source name, target key, target name)."""
        return [
            (str(r["src"]), str(r["src_name"]), str(r["dst"]), str(r["dst_name"]))
            for r in self.run(q.SAME_AS_EDGES)
        ]

    def unresolved_entities(self) -> list[EntityRecord]:
        return [_entity(r) for r in self.run(q.UNRESOLVED_ENTITIES)]

    def entity_keys_of_chunks(self, chunk_ids: Sequence[str]) -> list[str]:
        """Non-hub entities mentioned in the given chunks (weak seeds from dense hits)."""
        if not chunk_ids:
            return []
        rows = self.run(q.ENTITIES_OF_CHUNKS, {"ids": list(chunk_ids)})
        return list(dict.fromkeys(str(r["key"]) for r in rows))

    def document_stats(self) -> list[DocumentStats]:
        """Every document with its chunk count and the entities its chunks mention."""
        return [
            DocumentStats(
                **vars(_document(r)), chunks=int(r["chunks"] or 0), entities=int(r["entities"] or 0)
            )
            for r in self.run(q.DOCUMENT_STATS)
        ]

    def chunk_neighbours(self, chunk_id: str) -> tuple[str | None, str | None]:
        """The ids of the chunks before and after `chunk_id` in its document's reading
        order (None at either end, and for a chunk that is not stored)."""
        rows = self.run(q.CHUNK_NEIGHBOURS, {"id": chunk_id})
        if not rows:
            return None, None
        before, after = rows[0]["before"], rows[0]["after"]
        return (str(before) if before else None), (str(after) if after else None)

    def top_entities(self, limit: int = 20) -> list[EntityRecord]:
        """The most mentioned entities that are not hubs, most mentioned first."""
        return [_entity(r) for r in self.run(q.TOP_ENTITIES, {"limit": limit})]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, stmt in {**q.COUNT_LABEL, **q.COUNT_RELATIONSHIP}.items():
            rows = self.run(stmt)
            out[name] = int(rows[0]["n"]) if rows else 0
        return out


def _document(row: Row) -> DocumentRecord:
    return DocumentRecord(
        id=str(row["id"]),
        path=str(row["path"] or ""),
        title=str(row["title"] or ""),
        lang=row["lang"] or "en",
        sha256=str(row["sha256"] or ""),
        complete=bool(row["complete"]),
        size=_int_or_none(row.get("size")),
        mtime_ns=_int_or_none(row.get("mtime_ns")),
    )


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _entity(row: Row) -> EntityRecord:
    return EntityRecord(
        key=str(row["key"]),
        name=str(row["name"] or row["key"]),
        type=str(row["type"] or ""),
        mention_count=int(row["mention_count"] or 0),
        is_hub=bool(row["is_hub"]),
    )
