"""Which files an ingestion reads: supported suffixes under a folder, hidden ones skipped.

Symlinked folders are followed once (a link back up the tree is a loop, reported and not
followed); folders that cannot be read are reported, never silently missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kgrag.core.errors import InputNotFoundError
from kgrag.extractors.parse import SUPPORTED_SUFFIXES


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def discover(path: Path) -> Discovery:
    """Supported files under `path` (or `path` itself when it is a file), sorted."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file or folder")
    if not path.is_dir():
        return Discovery([path])
    found = Discovery()
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path) -> None:
        try:
            info = folder.stat()
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            found.skipped.append((str(folder), f"folder not readable: {exc.strerror or exc}"))
            return
        if (info.st_dev, info.st_ino) in seen:
            found.skipped.append((str(folder), "symlink loop: folder already visited"))
            return
        seen.add((info.st_dev, info.st_ino))
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows symlinks
                is_file = not is_dir and entry.is_file()
            except OSError as exc:
                found.skipped.append((str(child), f"not readable: {exc.strerror or exc}"))
                continue
            if is_dir:
                walk(child)
            elif child.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            elif is_file:
                found.files.append(child)
            elif entry.is_symlink():
                found.skipped.append((str(child), "broken symlink"))

    walk(path)
    found.files.sort()
    return found
