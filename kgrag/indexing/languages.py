"""Which languages a folder is written in, from an even sample of its files: enough to
choose a new workspace's embedder before anything is embedded."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kgrag.core.errors import KgragError
from kgrag.core.types import Lang
from kgrag.extractors.lang import split_paragraphs_by_lang
from kgrag.extractors.parse import parse_file
from kgrag.indexing.discovery import discover

SAMPLE_FILES = 24
SAMPLE_CHARS = 20_000  # per file: the start of a long file says which language it is in


def sample_languages(path: Path, max_files: int = SAMPLE_FILES) -> Counter[Lang]:
    """Characters per language over up to `max_files` files spread evenly over the sorted
    files under `path`. Files that cannot be read are left out (ingestion reports them)."""
    files = discover(path).files
    if len(files) > max_files:
        step = len(files) / max_files
        files = [files[int(i * step)] for i in range(max_files)]
    counts: Counter[Lang] = Counter()
    for file in files:
        try:
            text = parse_file(file).text[:SAMPLE_CHARS]
        except (KgragError, OSError):
            continue
        for (start, end), lang in split_paragraphs_by_lang(text):
            counts[lang] += end - start
    return counts


def needs_chinese(counts: Counter[Lang], min_share: float = 0.05) -> bool:
    """Chinese or mixed: at least `min_share` of the sampled text is Chinese."""
    total = sum(counts.values())
    return total > 0 and counts["zh"] / total >= min_share
