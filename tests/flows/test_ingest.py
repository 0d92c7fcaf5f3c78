"""The Prefect ingest flow end to end: real FalkorDB, Qdrant local mode, real models."""

import os
import shutil
from pathlib import Path

import pytest

from kgrag.client import Client
from kgrag.core.errors import InputNotFoundError
from kgrag.runtime import get_runtime
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow


def _consistent(client: Client) -> tuple[int, int]:
    """Every level-0 chunk has a vector (or child vectors) and every vector its chunk."""
    rt = get_runtime(client.settings, client.workspace)
    graph_chunks = rt.graph.chunk_ids()
    units = rt.vectors.unit_chunks()
    vector_chunks = set(units)
    level0 = {r["id"] for r in rt.graph.run("MATCH (c:Chunk {level: 0}) RETURN c.id AS id")}
    assert vector_chunks <= graph_chunks
    assert level0 == vector_chunks
    return len(graph_chunks), rt.vectors.count()


def test_ingest_twice_is_idempotent(demo_client: Client):
    rt = get_runtime(demo_client.settings, demo_client.workspace)
    before = rt.graph.counts()
    chunks, units = _consistent(demo_client)
    assert before["Document"] == len(list(EXAMPLES.iterdir()))
    assert before["Entity"] > 0 and before["MENTIONS"] > 0

    report = demo_client.ingest(EXAMPLES)
    assert report.indexed == 0 and report.unchanged == before["Document"]
    assert rt.graph.counts() == before
    assert _consistent(demo_client) == (chunks, units)


def test_changed_file_replaces_old_version_and_bad_files_are_reported(
    tmp_path: Path, settings, workspace, prefect_harness
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(EXAMPLES / "marie-curie.md", corpus / "curie.md")
    (corpus / "empty.txt").write_text("")
    (corpus / "binary.md").write_bytes(b"\x00\x01\x02\xff" * 100)
    client = Client(workspace=workspace, settings=settings)
    report = client.ingest(corpus)
    assert report.indexed == 1
    assert {Path(p).name for p, _ in report.failed} == {"empty.txt", "binary.md"}
    assert all(reason for _, reason in report.failed)

    (corpus / "curie.md").write_text("# Curie\n\nMarie Curie was born in Warsaw.\n")
    report = client.ingest(corpus)
    assert report.indexed == 1 and report.replaced == 1
    rt = get_runtime(settings, workspace)
    docs = rt.graph.documents()
    assert len(docs) == 1
    assert set(rt.vectors.unit_chunks().values()) == {docs[0].id}
    _consistent(client)

    deleted = client.delete(str(corpus / "curie.md"))
    assert deleted == [docs[0].id]
    counts = rt.graph.counts()
    assert counts["Document"] == 0 and counts["Chunk"] == 0 and counts["Entity"] == 0
    assert rt.vectors.count() == 0
    client.close()


def test_an_unchanged_file_is_known_by_its_size_and_time_without_being_read(
    tmp_path: Path, settings, workspace, prefect_harness
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    curie = corpus / "curie.md"
    curie.write_text("# Curie\n\nMarie Curie was born in Warsaw.\n")
    client = Client(workspace=workspace, settings=settings)
    assert client.ingest(corpus).indexed == 1
    stored = get_runtime(settings, workspace).graph.documents()[0]
    stat = curie.stat()
    assert (stored.size, stored.mtime_ns) == (stat.st_size, stat.st_mtime_ns)

    # Same size and time: not read, so a rewrite that puts both back goes unseen ...
    curie.write_text("# Curie\n\nMarie Curie was born in Krakow.\n")
    os.utime(curie, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = client.ingest(corpus)
    assert report.unchanged == 1 and report.indexed == 0 and "parse" not in report.stages
    # ... and a new time has it read: new content is indexed, a mere touch is not.
    os.utime(curie, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert client.ingest(corpus).indexed == 1
    os.utime(curie, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2 * 10**9))
    report = client.ingest(corpus)
    assert report.unchanged == 1 and report.indexed == 0 and "parse" in report.stages
    stored = get_runtime(settings, workspace).graph.documents()[0]
    assert stored.mtime_ns == curie.stat().st_mtime_ns
    report = client.ingest(corpus)  # the touch's time was stored: not read again
    assert report.unchanged == 1 and "parse" not in report.stages
    client.close()


def test_prune_matches_whole_path_components_and_refuses_a_missing_folder(
    tmp_path: Path, settings, workspace, prefect_harness
):
    notes, older = tmp_path / "idem", tmp_path / "idem2"
    for folder, name in ((notes, "a.md"), (older, "b.md")):
        folder.mkdir()
        (folder / name).write_text(f"# {name}\n\nMarie Curie was born in Warsaw.\n")
    client = Client(workspace=workspace, settings=settings)
    client.ingest(tmp_path)
    assert client.prune(notes) == []  # idem2/b.md is not under idem

    (notes / "a.md").unlink()
    rt = get_runtime(settings, workspace)
    (gone,) = [d.id for d in rt.graph.documents() if d.path.endswith("idem/a.md")]
    assert client.prune(notes) == [gone]
    assert [Path(d.path).name for d in rt.graph.documents()] == ["b.md"]

    with pytest.raises(InputNotFoundError, match="no such file or folder"):
        client.prune(tmp_path / "id")  # a mistyped prefix of both folders
    assert [Path(d.path).name for d in rt.graph.documents()] == ["b.md"]
    client.close()


def test_a_run_that_finds_nothing_new_loads_no_model(
    tmp_path: Path, settings, workspace, prefect_harness
):
    """A scheduled re-ingest of an unchanged folder costs file stats and a few queries,
    not the seconds of loading the embedder and the annotator."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "curie.md").write_text("# Curie\n\nMarie Curie was born in Warsaw.\n")
    client = Client(workspace=workspace, settings=settings)
    assert client.ingest(corpus).indexed == 1
    client.close()
    models = ("embedder", "chunker", "annotator", "entity_index")

    client = Client(workspace=workspace, settings=settings)  # a new process's runtime
    report = client.ingest(corpus)
    os.utime(corpus / "curie.md")  # touched: read and hashed, still unchanged
    touched = client.ingest(corpus)
    loaded = [m for m in models if m in vars(get_runtime(settings, workspace))]
    assert report.unchanged == touched.unchanged == 1 and "parse" in touched.stages
    assert loaded == []

    (corpus / "pierre.md").write_text("# Pierre\n\nPierre Curie taught in Paris.\n")
    assert client.ingest(corpus).indexed == 1  # new work loads them
    assert all(m in vars(get_runtime(settings, workspace)) for m in models)
    client.close()
