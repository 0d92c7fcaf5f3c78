"""`kgrag doctor`: is the graph consistent with the vectors, and can it be made so?

Checks what an interrupted run, a lost Qdrant folder or a lost graph write could leave:
documents never completed, several documents for one file, reader chunks with no
vector (or vectors with no chunk), entities with no name vector (or name vectors with
no entity), and entities never resolved; and SAME_AS edges that today's rules
(`kg.same_as_rules`) refuse, written by an older kgrag (resolution links new entities and
never judges old edges again). `repair` fixes each of them; a document whose vectors
were lost is indexed again from its file when the file is still there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kgrag.core.records import DocumentRecord
from kgrag.kg.same_as_rules import same_as_allowed

if TYPE_CHECKING:  # the remote client reads DoctorReport without the indexer's imports
    from kgrag.indexing.indexer import Indexer


@dataclass
class Diagnosis:
    incomplete: list[str] = field(default_factory=list)  # document ids
    duplicates: dict[str, list[DocumentRecord]] = field(default_factory=dict)  # by path
    chunks_without_vectors: dict[str, str] = field(default_factory=dict)  # chunk -> doc
    vectors_without_chunks: dict[str, str] = field(default_factory=dict)  # chunk -> doc
    entities_without_vectors: set[str] = field(default_factory=set)
    vectors_without_entities: set[str] = field(default_factory=set)
    unresolved: int = 0
    refused_same_as: list[tuple[str, str]] = field(default_factory=list)  # (source, target)

    def rows(self) -> list[tuple[str, int]]:
        """(check, problems found), in the order they are repaired."""
        return [
            ("documents not complete", len(self.incomplete)),
            ("files with several documents", len(self.duplicates)),
            ("chunks without vectors", len(self.chunks_without_vectors)),
            ("vectors without chunks", len(self.vectors_without_chunks)),
            ("entities without name vectors", len(self.entities_without_vectors)),
            ("name vectors without entities", len(self.vectors_without_entities)),
            ("entities not resolved", self.unresolved),
            ("SAME_AS edges the rules refuse", len(self.refused_same_as)),
        ]

    @property
    def consistent(self) -> bool:
        return not any(n for _, n in self.rows())


@dataclass
class DoctorReport:
    """What `kgrag doctor` shows: (check, problems) rows as found, and after a repair."""

    found: list[tuple[str, int]]
    after: list[tuple[str, int]] | None = None
    not_repaired: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not any(n for _, n in self.found)


def examine(indexer: Indexer, fix: bool = False) -> DoctorReport:
    """Diagnose, and with `fix` repair and diagnose again."""
    found = diagnose(indexer)
    if not fix or found.consistent:
        return DoctorReport(found.rows())
    left = repair(indexer, found)
    return DoctorReport(found.rows(), diagnose(indexer).rows(), left)


def quick_check(indexer: Indexer) -> Diagnosis:
    """The graph-only checks: cheap enough to end every ingestion with."""
    diagnosis = Diagnosis()
    by_path: dict[str, list[DocumentRecord]] = {}
    for doc in indexer.graph.documents():
        if not doc.complete:
            diagnosis.incomplete.append(doc.id)
        by_path.setdefault(doc.path, []).append(doc)
    diagnosis.duplicates = {path: docs for path, docs in by_path.items() if len(docs) > 1}
    diagnosis.unresolved = len(indexer.graph.unresolved_entities())
    return diagnosis


def diagnose(indexer: Indexer) -> Diagnosis:
    """Every check, including those that read every vector's payload."""
    diagnosis = quick_check(indexer)
    graph_chunks = indexer.graph.reader_chunks()
    vector_chunks = indexer.vectors.unit_chunks()
    incomplete = set(diagnosis.incomplete)
    diagnosis.chunks_without_vectors = {
        c: d for c, d in graph_chunks.items() if c not in vector_chunks and d not in incomplete
    }
    diagnosis.vectors_without_chunks = {
        c: d for c, d in vector_chunks.items() if c not in graph_chunks
    }
    entities = indexer.graph.entity_keys()
    named = indexer.entity_index.keys()
    diagnosis.entities_without_vectors = entities - named
    diagnosis.vectors_without_entities = named - entities
    diagnosis.refused_same_as = [
        (src, dst)
        for src, src_name, dst, dst_name in indexer.graph.same_as_names()
        if not same_as_allowed(src_name, dst_name, reads_han=indexer.reads_han)
    ]
    return diagnosis


def repair(indexer: Indexer, diagnosis: Diagnosis) -> list[str]:
    """Fix what `diagnosis` found; returns what could not be fixed, one line each."""
    left: list[str] = []
    indexer.reconcile()  # incomplete documents, vectors without chunks
    for path, versions in diagnosis.duplicates.items():
        current = _sha256(path)
        if current is None:
            left.append(f"{path}: the file is gone; `kgrag prune` its folder to remove it")
            continue
        stale = [d.id for d in versions if d.sha256 != current]
        indexer.drop(stale)
        if len(stale) == len(versions):
            left.append(f"{path}: no stored version matches the file; ingest it again")
    lost = sorted({doc for doc in diagnosis.chunks_without_vectors.values()})
    reingest = [d for d in indexer.graph.documents() if d.id in set(lost)]
    indexer.drop(lost)
    paths = [Path(d.path) for d in reingest if Path(d.path).is_file()]
    left += [
        f"{d.path}: its vectors were lost and the file is gone"
        for d in reingest
        if not Path(d.path).is_file()
    ]
    if paths:
        docs, failures = indexer.parse(paths)
        indexer.write(indexer.prepare(docs))
        left += [f"{path}: {reason}" for path, reason in failures]
    indexer.graph.mark_resolved(sorted(diagnosis.entities_without_vectors), resolved=False)
    indexer.resolve()  # name vectors without entities, entities not resolved
    indexer.graph.delete_same_as(diagnosis.refused_same_as)
    return left


def _sha256(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
