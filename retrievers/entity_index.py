"""The entity-name index: every graph entity's name embedded in the workspace's entity
collection. Entity resolution uses it for SAME_AS edges (it implements
`kg.resolution.EntityNameIndex`); linking uses it to map question phrases to entities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from kgrag.extractors.embed import Embedder
from kgrag.retrievers.vector_index import VectorIndex


class EntityIndex:
    def __init__(self, vectors: VectorIndex, embedder: Embedder) -> None:
        self.vectors = vectors
        self.embedder = embedder

    @property
    def name_threshold(self) -> float:
        """The cosine above which two names are taken as one thing, for this embedder."""
        return self.embedder.name_threshold

    def keys(self) -> set[str]:
        return self.vectors.entity_keys()

    def remove(self, keys: Sequence[str]) -> None:
        self.vectors.delete_entities(keys)

    def add(self, names: Mapping[str, str]) -> np.ndarray:
        keys = list(names)
        if not keys:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        vectors = self.embedder.encode_queries([names[key] for key in keys])
        self.vectors.ensure(self.embedder.dim)
        self.vectors.upsert_entities(keys, [names[key] for key in keys], vectors)
        return vectors

    def nearest(
        self, vectors: np.ndarray, k: int, threshold: float
    ) -> list[list[tuple[str, float]]]:
        return self.vectors.search_entities(vectors, k, threshold)

    def match(
        self, texts: Sequence[str], k: int, threshold: float
    ) -> list[list[tuple[str, float]]]:
        """For each text, the keys of the `k` nearest entity names above `threshold`."""
        if not texts:
            return []
        return self.nearest(self.embedder.encode_queries(list(texts)), k, threshold)
