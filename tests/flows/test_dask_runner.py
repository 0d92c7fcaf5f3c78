"""The Dask task runner (KGRAG_TASK_RUNNER=dask): parsing and extraction run in the worker
processes of a local cluster, the writes here, and the workspace equals a default run's."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from kgrag.client import Client
from kgrag.indexing.extraction import this_process
from kgrag.indexing.indexer import Indexer, PreparedBatch
from kgrag.services import LocalServer
from tests.conftest import EXAMPLES, make_settings
from tests.flows.test_crash_recovery import release, snapshot

pytestmark = pytest.mark.slow


def _children() -> set[int]:
    """This process's child processes, but for multiprocessing's resource tracker (started
    with the first spawned process, it lives as long as this one)."""
    import psutil

    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.Error:  # gone meanwhile
            pass
    return found


def test_the_dask_runner_extracts_in_workers_and_writes_what_the_default_writes(
    tmp_path: Path,
    falkordb_server: LocalServer,
    prefect_harness: None,
    workspace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("prefect_dask")
    corpus = tmp_path / "corpus"
    shutil.copytree(EXAMPLES, corpus)
    files = len(list(corpus.iterdir()))
    written: list[PreparedBatch] = []
    write = Indexer.write

    def spy(self: Indexer, batch: PreparedBatch, on_document: object = None) -> object:
        written.append(batch)
        return write(self, batch, on_document)  # type: ignore[arg-type]

    monkeypatch.setattr(Indexer, "write", spy)
    annotator_here: list[str] = []  # the flow's process needs no annotator of its own
    annotator = Indexer.annotator

    def watched(self: Indexer) -> object:
        annotator_here.append(self.workspace)
        return annotator.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(Indexer, "annotator", property(watched))
    before = _children()

    settings = make_settings(tmp_path / "dask", falkordb_server, task_runner="dask", dask_workers=2)
    done: list[int] = []
    report = Client(workspace=workspace, settings=settings).ingest(
        corpus, progress=lambda n, _total, _failed: done.append(n)
    )
    assert report.indexed == files and not report.failed
    assert done[-1] == files and done == sorted(done)
    # every write happened here, every extraction in one of the two worker processes
    extracted_by = {b.extracted_by for b in written if b.documents}
    assert len(extracted_by) == 2 and this_process() not in extracted_by
    assert sum(len(b.documents) for b in written) == files
    # the backend names each document records came from the workers' extraction
    assert annotator_here == []
    dask_backends = {b.backends for b in written if b.documents}
    assert len(dask_backends) == 1 and "en=spacy:" in next(iter(dask_backends))
    # the run's cluster is closed: no worker process is left behind
    deadline = time.monotonic() + 15
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _children() - before == set()
    dask_state = snapshot(settings, workspace)

    reference = make_settings(tmp_path / "default", falkordb_server)
    del written[:]
    Client(workspace=f"{workspace}-ref", settings=reference).ingest(corpus)
    release(reference, f"{workspace}-ref")
    assert {b.extracted_by for b in written if b.documents} == {this_process()}
    assert {b.backends for b in written if b.documents} == dask_backends
    assert dask_state.vectors and dask_state.entities
    assert dask_state == snapshot(reference, f"{workspace}-ref")
