"""The layers of the design card hold in the code, and installing kgrag adds one name.

core (leaf) <- stages (extractors, kg, generation <- retrievers <- indexing <- flows)
<- app (the modules directly in kgrag/: Runtime, Client, CLI, services) <- bench.
Every import is checked, including those inside functions and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "kgrag"
APP = "kgrag"  # modules directly in kgrag/
ALLOWED: dict[str, set[str]] = {
    "kgrag.core": set(),
    "kgrag.extractors": {"kgrag.core"},
    "kgrag.kg": {"kgrag.core"},
    "kgrag.generation": {"kgrag.core"},
    "kgrag.retrievers": {"kgrag.core", "kgrag.extractors", "kgrag.kg", "kgrag.generation"},
    "kgrag.indexing": {"kgrag.core", "kgrag.extractors", "kgrag.kg", "kgrag.retrievers"},
    "kgrag.flows": {"kgrag.core", "kgrag.indexing"},
}
STAGES = set(ALLOWED)
ALLOWED[APP] = STAGES
ALLOWED["kgrag.bench"] = STAGES | {APP}
APP_PACKAGES = {"kgrag.server"}  # folders of the app layer
OUTSIDE_NAMES = {"kg", "extractors", "retrievers", "flows", "bench", "indexing", "generation"}


def _modules() -> dict[str, Path]:
    found = {}
    for folder, _, files in os.walk(PACKAGE, followlinks=True):  # the stage folders are links
        for file in files:
            if file.endswith(".py"):
                rel = (Path(folder) / file).relative_to(REPO).with_suffix("")
                name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
                found[name] = Path(folder) / file
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            out.append((node.lineno, node.module or ""))
    return out


def _layer(module: str) -> str | None:
    """The layer of a kgrag module (None for other packages)."""
    if module != "kgrag" and not module.startswith("kgrag."):
        return None
    package = ".".join(module.split(".")[:2])
    return package if package in ALLOWED else APP


def test_every_stage_folder_is_a_known_layer():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert {f"kgrag.{f}" for f in folders} == (set(ALLOWED) - {APP}) | APP_PACKAGES


def test_imports_follow_the_layers():
    modules = _modules()
    assert len(modules) > 60  # the stage folders were found through their links
    wrong = []
    for name, path in modules.items():
        layer = _layer(name)
        assert layer is not None
        for line, imported in _imports(path):
            if imported.split(".")[0] in OUTSIDE_NAMES:
                wrong.append(f"{path}:{line}: {imported} (outside the kgrag namespace)")
            target = _layer(imported)
            if target is None or target == layer:
                continue
            if target not in ALLOWED[layer]:
                wrong.append(f"{path}:{line}: {layer} imports {target}")
    assert wrong == []


def test_the_folder_graph_has_no_cycle():
    edges: dict[str, set[str]] = {layer: set() for layer in ALLOWED}
    for name, path in _modules().items():
        for _, imported in _imports(path):
            target = _layer(imported)
            source = _layer(name)
            if source is not None and target is not None and target != source:
                edges[source].add(target)
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", " -> ".join([*trail, node])
        state[node] = "open"
        for nxt in edges[node]:
            visit(nxt, [*trail, node])
        state[node] = "done"

    for layer in edges:
        visit(layer, [])


@pytest.mark.slow
def test_the_wheel_installs_only_the_kgrag_name(tmp_path: Path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            "-q",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("kgrag-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"kgrag", wheel.name.split("-py3")[0] + ".dist-info"}
    for stage in (
        "kg/store.py",
        "extractors/parse.py",
        "retrievers/pipeline.py",
        "flows/ingest.py",
        "bench/data/extract_en.jsonl",
        "core/types.py",
    ):
        assert f"kgrag/{stage}" in names
