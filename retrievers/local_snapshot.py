"""Exact in-memory search over a snapshot of a local-mode Qdrant collection.

Qdrant's local mode (a folder, no server) is Qdrant's reference code in pure Python: every
query walks every stored point one at a time, so a keyword (sparse) query over 2k chunks
costs ~65 ms and an entity-name query ~30 ms on this machine. Local mode also locks its
folder to one client per process, so every write goes through this process and a snapshot
of the stored points, refreshed after each write, is exact. Searching it is the same
exhaustive search as numpy / scipy products, with Qdrant's scores: dot product of unit
vectors for cosine collections, and for sparse vectors with the IDF modifier
`value * ln((N - df + 0.5) / (df + 0.5) + 1)` per query term, N counting the points that
have the vector. The tests check results against Qdrant's own local search. A Qdrant
server answers from its own indexes and never comes here.

Query-time products run with one BLAS thread: they are small, and OpenBLAS workers left
spinning after a multi-threaded call fight torch's for the cores; on 2 cores the next
question embedding took 39 ms instead of 15.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

FloatMatrix = npt.NDArray[np.float32]
_SMALL_BATCH = 64  # query rows up to which a product counts as query-time


@dataclass(frozen=True)
class Snapshot:
    payloads: list[dict[str, Any]]
    dense: FloatMatrix  # (points, dim), unit rows
    sparse: sp.csr_matrix | None  # (points, terms seen), columns in `columns` order
    columns: dict[int, int]  # sparse term index -> column
    document_frequency: npt.NDArray[np.float64]  # per column
    sparse_points: int  # N in the IDF formula

    @classmethod
    def load(cls, client: Any, collection: str, dense: str, keyword: str | None) -> Snapshot:
        """Read every point (payload and vectors) of `collection` with `scroll`."""
        names = [dense] if keyword is None else [dense, keyword]
        payloads: list[dict[str, Any]] = []
        rows: list[list[float]] = []
        sparse_rows: list[tuple[list[int], list[float]] | None] = []
        offset = None
        while True:
            points, offset = client.scroll(
                collection, limit=2048, offset=offset, with_payload=True, with_vectors=names
            )
            for p in points:
                vectors = p.vector if isinstance(p.vector, dict) else {}
                payloads.append(dict(p.payload or {}))
                rows.append(list(vectors[dense]))
                if keyword is not None:
                    vec = vectors.get(keyword)
                    sparse_rows.append(None if vec is None else (vec.indices, vec.values))
            if offset is None:
                break
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1 if rows else 0)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        if keyword is None:
            return cls(payloads, matrix, None, {}, np.zeros(0), 0)
        return cls(payloads, matrix, *_sparse_matrix(sparse_rows))

    def __len__(self) -> int:
        return len(self.payloads)

    def dense_top(
        self, queries: FloatMatrix, k: int, threshold: float | None = None
    ) -> list[list[tuple[int, float]]]:
        """(point position, cosine) of the k best points per query row, best first; with
        `threshold`, only scores above it (Qdrant's `score_threshold`)."""
        if not len(self) or k <= 0:
            return [[] for _ in queries]
        unit = (queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12))
        unit = unit.astype(np.float32)
        if len(unit) <= _SMALL_BATCH:
            with _one_blas_thread():
                scores = unit @ self.dense.T
        else:  # ingestion-size batches: every BLAS thread helps, and no model runs meanwhile
            scores = unit @ self.dense.T
        top = min(k, len(self))
        best = np.argpartition(-scores, top - 1, axis=1)[:, :top]
        best_scores = np.take_along_axis(scores, best, axis=1)
        order = np.argsort(-best_scores, axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        best_scores = np.take_along_axis(best_scores, order, axis=1)
        return [
            [
                (int(i), float(v))
                for i, v in zip(row_ids, row_scores)
                if threshold is None or v > threshold
            ]
            for row_ids, row_scores in zip(best.tolist(), best_scores.tolist())
        ]

    def sparse_top(self, indices: Sequence[int], values: Sequence[float], k: int) -> list[
        tuple[int, float]
    ]:
        """(point position, score) of the k best points sharing a term with the query."""
        if self.sparse is None or not len(self) or k <= 0:
            return []
        query = np.zeros(len(self.columns), dtype=np.float64)
        for index, value in zip(indices, values):
            col = self.columns.get(index)
            if col is not None:
                df = self.document_frequency[col]
                n = self.sparse_points
                query[col] += value * np.log((n - df + 0.5) / (df + 0.5) + 1.0)
        touched = np.flatnonzero(query)
        if not touched.size:
            return []
        sub = self.sparse[:, touched]
        overlap = np.flatnonzero(np.diff(sub.tocsr().indptr))  # points with a query term
        scores = np.asarray(sub @ query[touched]).ravel()
        ranked = _top(scores[overlap], k)
        return [(int(overlap[i]), s) for i, s in ranked]


@lru_cache(maxsize=1)
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager[object]:
    return _threadpools().limit(limits=1, user_api="blas")


def _sparse_matrix(
    rows: list[tuple[list[int], list[float]] | None],
) -> tuple[sp.csr_matrix, dict[int, int], npt.NDArray[np.float64], int]:
    columns: dict[int, int] = {}
    indptr = [0]
    cols: list[int] = []
    data: list[float] = []
    for row in rows:
        if row is not None:
            for index, value in zip(*row):
                cols.append(columns.setdefault(int(index), len(columns)))
                data.append(float(value))
        indptr.append(len(cols))
    matrix = sp.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(cols, dtype=np.int64), indptr),
        shape=(len(rows), len(columns)),
    )
    frequency = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(columns))
    present = sum(1 for row in rows if row is not None)
    return matrix, columns, frequency.astype(np.float64), present


def _top(scores: npt.NDArray[Any], k: int) -> list[tuple[int, float]]:
    top = min(k, len(scores))
    if top == 0:
        return []
    best = np.argpartition(-scores, top - 1)[:top]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best]
