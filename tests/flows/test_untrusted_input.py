"""Untrusted input never reaches anything but its own document: Cypher in file names,
titles, entity names and questions is data; a reader that fails in any way fails its
file only; folders that loop or dangle are reported, not followed forever."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kgrag.client import Client
from kgrag.indexing import extraction as extraction_module
from kgrag.indexing.discovery import discover
from kgrag.runtime import get_runtime
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow

CYPHER = "x'}) MATCH (n) DETACH DELETE n RETURN ('"
CYPHER_2 = 'a"}) CREATE (:Entity {key: "pwned"}) RETURN 1 //'


def test_cypher_in_names_titles_entities_and_questions_is_only_data(
    tmp_path: Path, settings, workspace, prefect_harness
):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "curie.md").write_text((EXAMPLES / "marie-curie.md").read_text())
    client = Client(workspace=workspace, settings=settings)
    client.ingest(corpus)
    rt = get_runtime(settings, workspace)
    before = rt.graph.counts()

    hostile = corpus / f"{CYPHER}.md"
    hostile.write_text(
        f"# {CYPHER_2}\n\nMarie Curie met {CYPHER} in Paris. "
        f"Robert'); DROP TABLE docs;-- founded {CYPHER_2}.\n"
    )
    report = client.ingest(corpus)
    assert report.indexed == 1 and not report.failed
    after = rt.graph.counts()
    assert after["Document"] == before["Document"] + 1  # one more document, nothing deleted
    assert after["Chunk"] == before["Chunk"] + 1
    assert after["Entity"] >= before["Entity"] and after["MENTIONS"] > before["MENTIONS"]
    assert "pwned" not in rt.graph.entity_keys()
    (doc,) = [d for d in rt.graph.documents() if d.path.endswith(f"{CYPHER}.md")]
    assert doc.title == CYPHER_2  # stored verbatim, as a value

    for question in (CYPHER, CYPHER_2, "MATCH (n) RETURN n"):
        for mode in ("fused", "graph", "keyword"):
            client.search(question, 3, mode)
    assert rt.graph.counts() == after
    assert client.delete(str(hostile)) == [doc.id]
    assert rt.graph.counts()["Document"] == before["Document"]
    client.close()


def test_a_reader_that_breaks_fails_only_its_file(
    tmp_path: Path, settings, workspace, prefect_harness, monkeypatch
):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name in ("marie-curie.md", "tu-youyou.md"):
        (corpus / name).write_text((EXAMPLES / name).read_text())
    real_parse = extraction_module.parse_file

    def parse(path: Path, **options: object):
        if path.name == "tu-youyou.md":
            raise MemoryError("a reader bug, not a ParseError")
        return real_parse(path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(extraction_module, "parse_file", parse)
    report = Client(workspace=workspace, settings=settings).ingest(corpus)
    assert report.indexed == 1
    ((path, reason),) = report.failed
    assert path.endswith("tu-youyou.md") and "MemoryError" in reason and "reader bug" in reason


def test_folders_that_loop_or_dangle_are_reported(tmp_path: Path):
    root = tmp_path / "notes"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.md").write_text("# A\n\nText.\n")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    (root / "gone.md").symlink_to(tmp_path / "missing.md")
    (root / ".hidden.md").write_text("skipped")
    found = discover(root)
    assert found.files == [root / "sub" / "a.md"]
    reasons = dict(found.skipped)
    assert "symlink loop" in reasons[str(root / "sub" / "loop")]
    assert reasons[str(root / "gone.md")] == "broken symlink"
    if os.geteuid() != 0:  # root reads any folder: the case cannot be made here as root
        locked = root / "locked"
        locked.mkdir()
        locked.chmod(0)
        assert "not readable" in dict(discover(root).skipped)[str(locked)]
