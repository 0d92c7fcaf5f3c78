"""Crash tests: an ingestion SIGKILLed at several points (and the graph server killed
during a write) loses nothing: after a rerun the workspace equals a clean run's.

The ingestion runs as a real `kgrag` process (tests/flows/crash_driver.py) that kills
itself at the chosen point; the rerun and the comparison happen here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kgrag.client import Client
from kgrag.core.ids import doc_id_of_chunk
from kgrag.core.settings import Settings
from kgrag.extractors.normalize import normalize_key
from kgrag.indexing.doctor import diagnose
from kgrag.retrievers.vector_index import close_shared_clients
from kgrag.runtime import drop_runtime, get_runtime
from kgrag.services import LocalServer, start, stop
from tests.conftest import EXAMPLES, cli_env, free_port, make_settings

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("crash_driver.py")


@dataclass(frozen=True)
class State:
    """A workspace's content with document ids replaced by file names, so two
    workspaces over the same files compare equal."""

    documents: frozenset[tuple[str, str, bool]]  # (file, sha256, complete)
    chunks: frozenset[tuple[str, str]]  # (file, chunk index) of reader chunks
    vectors: frozenset[tuple[str, str]]
    entities: frozenset[str]
    entity_vectors: frozenset[str]
    same_as: frozenset[tuple[str, str]]
    unresolved: int
    counts: tuple[tuple[str, int], ...]


def snapshot(settings: Settings, workspace: str) -> State:
    rt = get_runtime(settings, workspace)
    docs = rt.graph.documents()
    names = {d.id: Path(d.path).name for d in docs}

    def by_file(chunks: dict[str, str]) -> frozenset[tuple[str, str]]:
        return frozenset(
            (names.get(doc_id_of_chunk(c), "?"), c.rsplit(":", 1)[1]) for c in chunks
        )

    same_as = rt.graph.run("MATCH (a:Entity)-[:SAME_AS]->(b:Entity) RETURN a.key AS a, b.key AS b")
    state = State(
        documents=frozenset((names[d.id], d.sha256, d.complete) for d in docs),
        chunks=by_file(rt.graph.reader_chunks()),
        vectors=by_file(rt.vectors.unit_chunks()),
        entities=frozenset(rt.graph.entity_keys()),
        entity_vectors=frozenset(rt.entity_index.keys()),
        same_as=frozenset((r["a"], r["b"]) for r in same_as),
        unresolved=len(rt.graph.unresolved_entities()),
        counts=tuple(sorted(rt.graph.counts().items())),
    )
    release(settings, workspace)
    return state


def release(settings: Settings, workspace: str) -> None:
    """Close this process's hold on the local Qdrant folder, so a `kgrag` process can
    open it (local mode allows one process per folder)."""
    drop_runtime(settings, workspace)
    close_shared_clients(settings.qdrant_path)


def crash(point: str, corpus: Path, settings: Settings, workspace: str, **env: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(DRIVER), point, str(corpus)],
        env={**cli_env(settings, workspace), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if point in ("none", "graph"):
        return
    assert proc.returncode == -9, proc.stderr[-2000:]


def ingest_here(corpus: Path, settings: Settings, workspace: str) -> None:
    Client(workspace=workspace, settings=settings).ingest(corpus)
    release(settings, workspace)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(EXAMPLES, folder)
    return folder


def reference(corpus: Path, tmp_path: Path, falkordb_server: LocalServer, name: str) -> State:
    settings = make_settings(tmp_path / "clean-home", falkordb_server)
    ingest_here(corpus, settings, name)
    return snapshot(settings, name)


@pytest.mark.parametrize("point", ["write", "resolve"])
def test_a_killed_ingestion_is_finished_by_the_next_run(
    point, corpus, tmp_path, falkordb_server, workspace, prefect_harness
):
    clean = reference(corpus, tmp_path, falkordb_server, f"{workspace}-clean")
    assert clean.same_as and clean.unresolved == 0  # the corpus exercises resolution
    settings = make_settings(tmp_path / "home", falkordb_server)
    crash(point, corpus, settings, workspace)
    assert snapshot(settings, workspace) != clean  # the kill left something to finish
    ingest_here(corpus, settings, workspace)
    assert snapshot(settings, workspace) == clean


def test_a_kill_between_new_and_old_version_leaves_one_version(
    corpus, tmp_path, falkordb_server, workspace, prefect_harness
):
    settings = make_settings(tmp_path / "home", falkordb_server)
    ingest_here(corpus, settings, workspace)
    changed = corpus / "marie-curie.md"
    changed.write_text(changed.read_text() + "\nShe died in 1934 in Passy.\n")
    crash("replace", corpus, settings, workspace)
    left = snapshot(settings, workspace)
    assert sum(1 for name, _, _ in left.documents if name == changed.name) == 2

    ingest_here(corpus, settings, workspace)
    clean = reference(corpus, tmp_path, falkordb_server, f"{workspace}-clean")
    assert snapshot(settings, workspace) == clean


def test_a_killed_graph_server_loses_nothing_after_restart_and_rerun(
    corpus, tmp_path, falkordb_server, workspace, prefect_harness
):
    server = LocalServer("127.0.0.1", free_port(), tmp_path / "falkordb")
    pid = start(server)
    try:
        settings = make_settings(tmp_path / "home", server)
        crash("graph", corpus, settings, workspace, KGRAG_TEST_GRAPH_PID=str(pid))
        start(server)  # replays its append-only log
        ingest_here(corpus, settings, workspace)
        state = snapshot(settings, workspace)
    finally:
        stop(server)
    assert state == reference(corpus, tmp_path, falkordb_server, f"{workspace}-clean")


def test_doctor_finds_and_repairs_lost_vectors_and_names(
    corpus, tmp_path, falkordb_server, workspace, prefect_harness
):
    settings = make_settings(tmp_path / "home", falkordb_server)
    ingest_here(corpus, settings, workspace)
    clean = snapshot(settings, workspace)
    rt = get_runtime(settings, workspace)
    victim = next(d for d in rt.graph.documents() if d.path.endswith("pierre-curie.md"))
    rt.vectors.delete_document(victim.id)  # as if the Qdrant write had been lost
    rt.entity_index.remove(sorted(clean.entity_vectors)[:3])
    marie, pierre = normalize_key("Marie Curie"), normalize_key("Pierre Curie")
    rt.graph.upsert_same_as([(marie, pierre, 0.9)])  # as an older kgrag's rules allowed
    found = diagnose(rt.indexer)
    assert not found.consistent
    assert set(found.chunks_without_vectors.values()) == {victim.id}
    assert len(found.entities_without_vectors) == 3
    assert found.refused_same_as == [(marie, pierre)]

    report = Client(workspace=workspace, settings=settings).doctor(repair=True)
    assert dict(report.found)["chunks without vectors"] == len(found.chunks_without_vectors)
    assert report.after is not None and not any(n for _, n in report.after)
    assert report.not_repaired == []
    assert (marie, pierre) not in {(a, b) for a, _, b, _ in rt.graph.same_as_names()}
    release(settings, workspace)
    assert snapshot(settings, workspace) == clean
