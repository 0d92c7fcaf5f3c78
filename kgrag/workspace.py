"""Per-workspace choices, fixed at first ingestion so queries use what ingestion used.

The embedder is one of them. With `KGRAG_EMBED_MODEL=auto` (the default) the first
ingestion looks at its files: Chinese or mixed documents get multilingual-e5-small, which
reads Chinese; English ones get MiniLM, several times faster."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from pydantic import BaseModel

from kgrag.core.settings import Settings, check_workspace
from kgrag.extractors.embed import AUTO_EMBED_MODEL, ENGLISH_EMBED_MODEL, MULTILINGUAL_EMBED_MODEL

log = logging.getLogger(__name__)


class WorkspaceConfig(BaseModel):
    name: str
    embed_model: str
    chunker: str
    chunk_max_chars: int
    chunk_overlap_chars: int
    spacy_model: str
    hanlp_ner: str | None = None
    hanlp_tok: str | None = None
    hanlp_srl: str | None = None
    user_dict: str | None = None
    keyinfo_index: bool = False  # workspaces stored before it existed have none
    created_at: int = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, name: str, sample: Path | None = None
    ) -> WorkspaceConfig:
        return cls(
            name=check_workspace(name),
            embed_model=choose_embed_model(settings.embed_model, name, sample),
            chunker=settings.chunker,
            chunk_max_chars=settings.chunk_max_chars,
            chunk_overlap_chars=settings.chunk_overlap_chars,
            spacy_model=settings.spacy_model,
            hanlp_ner=settings.hanlp_ner,
            hanlp_tok=settings.hanlp_tok,
            hanlp_srl=settings.hanlp_srl,
            user_dict=settings.user_dict,
            keyinfo_index=settings.keyinfo_index,
            created_at=int(time.time()),
        )


def choose_embed_model(setting: str, name: str, sample: Path | None) -> str:
    """The setting, unless it is "auto": then the languages of the files under `sample`
    decide (English when there is nothing to look at)."""
    if setting != AUTO_EMBED_MODEL:
        return setting
    if sample is None:
        return ENGLISH_EMBED_MODEL
    from kgrag.indexing.languages import needs_chinese, sample_languages

    counts = sample_languages(sample)
    chosen = MULTILINGUAL_EMBED_MODEL if needs_chinese(counts) else ENGLISH_EMBED_MODEL
    log.info(
        "workspace %r: sampled text is %d chars Chinese, %d English: embedding with %s",
        name, counts["zh"], counts["en"], chosen,
    )
    return chosen


def config_path(settings: Settings, name: str) -> Path:
    return settings.workspaces_dir / f"{check_workspace(name)}.json"


def load_config(settings: Settings, name: str) -> WorkspaceConfig | None:
    path = config_path(settings, name)
    if not path.exists():
        return None
    return WorkspaceConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))


def load_or_create_config(
    settings: Settings, name: str, sample: Path | None = None
) -> WorkspaceConfig:
    """The stored choices, or new ones stored now; `sample`: the files a new workspace
    is about to ingest, which an "auto" embedder is chosen from."""
    existing = load_config(settings, name)
    if existing is not None:
        return existing
    config = WorkspaceConfig.from_settings(settings, name, sample)
    path = config_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config.model_dump_json(indent=2), encoding="utf-8")
    return config


def delete_config(settings: Settings, name: str) -> None:
    config_path(settings, name).unlink(missing_ok=True)


def list_workspaces(settings: Settings) -> list[str]:
    """Workspaces that hold data (their choices are stored), by name."""
    if not settings.workspaces_dir.exists():
        return []
    return sorted(p.stem for p in settings.workspaces_dir.glob("*.json"))
