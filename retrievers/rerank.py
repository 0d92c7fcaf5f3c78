"""Optional cross-encoder reranking of retrieved hits.

Off unless the user names a cross-encoder (a local folder or a model already in the
Hugging Face cache). Nothing is downloaded: a model that is not available offline is
reported as `RerankerNotFoundError` instead of a slow network timeout.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from kgrag.core.errors import RerankerNotFoundError
from kgrag.core.types import Hit

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder



@lru_cache(maxsize=2)
def _load_cross_encoder(name_or_path: str, device: str | None) -> CrossEncoder:
    """One model per (name, device) per process, shared by every `Reranker`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import CrossEncoder

    try:
        # local_files_only as well as the variables: huggingface_hub reads them at import,
        # which may have happened before this function ran.
        return CrossEncoder(name_or_path, device=device, local_files_only=True)
    except Exception as exc:
        raise RerankerNotFoundError(
            f"cannot load reranker {name_or_path!r}: give a local cross-encoder folder or a "
            f"model already in the Hugging Face cache; nothing is downloaded ({exc})"
        ) from exc


class Reranker:
    """Re-scores (question, passage) pairs with a cross-encoder; the model loads on first use."""

    def __init__(self, name_or_path: str, device: str | None = None) -> None:
        self.name = name_or_path
        self.device = device
        # Fast tokenizers are not safe to call from several threads at once.
        self._lock = threading.Lock()

    @cached_property
    def model(self) -> CrossEncoder:
        return _load_cross_encoder(self.name, self.device)

    def rerank(self, question: str, hits: list[Hit], top_k: int) -> list[Hit]:
        """The best `top_k` hits by cross-encoder score, best first; ties keep input order."""
        if not hits or top_k < 1:
            return []
        with self._lock:
            scores = self.model.predict(
                [(question, hit.text) for hit in hits], show_progress_bar=False
            )
        rescored = [
            replace(hit, score=float(score), source=f"{hit.source}+rerank")
            for hit, score in zip(hits, scores)
        ]
        rescored.sort(key=lambda hit: -hit.score)
        return rescored[:top_k]


def load_reranker(name_or_path: str | None, device: str | None = None) -> Reranker | None:
    """None when no reranker is configured; otherwise a loaded one, so a bad name fails
    at setup rather than on the first question."""
    if not name_or_path or not name_or_path.strip():
        return None
    reranker = Reranker(name_or_path.strip(), device)
    _ = reranker.model
    return reranker
