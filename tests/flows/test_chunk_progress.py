"""Progress within a long file: chunks are embedded and annotated a batch at a time, and
the ingestion reports each batch before the file counts as done (issue 12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrag.client import Client
from kgrag.core.types import Document
from kgrag.extractors.chunking import TwoLevelChunker, embedding_units
from kgrag.indexing.extraction import _slices, extract
from kgrag.runtime import get_runtime
from tests.conftest import make_settings

PEOPLE = ["Marie Curie", "Pierre Curie", "Ada Lovelace", "Alan Turing", "Lise Meitner"]
CITIES = ["Warsaw", "Paris", "London", "Vienna", "Berlin"]


def long_text(paragraphs: int = 45) -> str:
    lines = ["# The long chronicle", ""]
    for n in range(paragraphs):
        a, b = PEOPLE[n % 5], PEOPLE[(n + 2) % 5]
        city = CITIES[(n * 3) % 5]
        lines += [
            f"In {1850 + n}, {a} met {b} in {city} to discuss experiment number {n}. "
            f"{a} wrote a long letter about the results of that experiment. "
            f"{b} later described the meeting in {city} as decisive for the work.",
            "",
        ]
    return "\n".join(lines)


def test_batches_keep_children_with_their_parent_and_the_document_order():
    text = long_text(12)
    doc = Document("d1", "/x/long.md", "The long chronicle", "en", text, "sha")
    short = Document("d2", "/x/short.md", "Short", "en", "One sentence only here.", "sha2")
    empty = Document("d3", "/x/empty.md", "Empty", "en", "", "sha3")
    chunker = TwoLevelChunker(parent_max_chars=300)
    chunked = [(d, chunker.chunk(d)) for d in (doc, short, empty)]
    assert sum(c.level == 0 for c in chunked[0][1]) > 6 and any(c.level for c in chunked[0][1])

    pieces = list(_slices(chunked, 3, whole=False))
    assert len(pieces) > 2
    for piece in pieces:
        assert sum(c.level == 0 for _, chunks in piece for c in chunks) <= 3
        for _, chunks in piece:
            ids = {c.id for c in chunks}
            assert all(c.parent_id in ids for c in chunks if c.level == 1)
    for n, (_doc, chunks) in enumerate(chunked):
        mine = [chunks_ for piece in pieces for m, chunks_ in piece if m == n]
        assert mine, "every document is in some batch, even one without chunks"
        assert [c for part in mine for c in part] == chunks
        units = [u for part in mine for u in embedding_units(part)]
        assert units == embedding_units(chunks)
    whole = list(_slices(chunked, 3, whole=True))  # a late chunker's document is not split
    assert [chunks for piece in whole for m, chunks in piece if m == 0] == [chunked[0][1]]


@pytest.mark.slow
def test_a_long_file_reports_chunk_progress_before_it_counts_as_done(
    tmp_path: Path, kgrag_home, falkordb_server, workspace, prefect_harness
):
    settings = make_settings(kgrag_home, falkordb_server, batch_size=4)
    path = tmp_path / "long.md"
    path.write_text(long_text())
    events: list[tuple[str, int, int]] = []
    client = Client(workspace=workspace, settings=settings)
    report = client.ingest(
        path,
        progress=lambda done, total, _failed: events.append(("files", done, total)),
        chunk_progress=lambda done, total: events.append(("chunks", done, total)),
    )
    assert report.indexed == 1 and report.chunks > 12

    chunks = [(done, total) for kind, done, total in events if kind == "chunks"]
    assert {total for _, total in chunks} == {report.chunks}
    assert [done for done, _ in chunks] == sorted(done for done, _ in chunks)
    assert chunks[0][0] == 0 and chunks[-1][0] == report.chunks
    assert len(chunks) >= 1 + report.chunks // 4  # one report per batch of 4
    file_done = events.index(("files", 1, 1))
    last_chunk = events.index(("chunks", report.chunks, report.chunks))
    assert last_chunk < file_done  # every chunk reported before the file is done
    assert all(e == ("files", 0, 1) for e in events[:file_done] if e[0] == "files")

    # Annotating in batches gives what one batch gives: the same vectors, entities and
    # triples (repeated triples of overlapping chunks dropped across batches too).
    indexer = get_runtime(settings, workspace).indexer
    docs, _ = indexer.parse([path])
    batched = extract(indexer.chunker, indexer.annotator, docs)
    indexer.annotator.batch_size = 10_000
    try:
        single = extract(indexer.chunker, indexer.annotator, docs)
    finally:
        indexer.annotator.batch_size = 4
    (a,), (b,) = batched.documents, single.documents
    assert a.chunks == b.chunks
    assert np.allclose(a.vectors, b.vectors, atol=1e-5)
    assert [x.chunk_id for x in a.annotations] == [x.chunk_id for x in b.annotations]
    for x, y in zip(a.annotations, b.annotations, strict=True):
        assert sorted(e.key for e in x.entities) == sorted(e.key for e in y.entities)
        assert x.triples == y.triples
