"""Exact in-memory search over a snapshot of a local-mode Qdrant collection.

Qdrant's local mode (a folder, no server) is Qdrant's reference code in pure Python: every
query walks every stored point one at a time, so a keyword (sparse) query over 2k chunks
costs ~65 ms and an entity-name query ~30 ms on this machine. Local mode also locks its
folder to one client per process, so every write goes through this process and a snapshot
of the stored points, refreshed after each write, is exact. The refresh applies the writes
(`Change`s) to a copy of the arrays (`Snapshot.apply`): reading every point back from
Qdrant instead took ~5.8 s per ingestion batch at 10k chunks and 30k entity names, more
than embedding the batch. Points are kept in id order, the order of a full read, so an
updated snapshot is the one a fresh process would load. Searching it is the same
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
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

FloatMatrix = npt.NDArray[np.float32]
SparseRow = tuple[Sequence[int], Sequence[float]] | None  # (term indices, values)
_SMALL_BATCH = 64  # query rows up to which a product counts as query-time
# A snapshot's sparse fields: matrix, columns, document frequency, has_sparse.
_SparsePart: TypeAlias = tuple[
    sp.csr_matrix | None, dict[int, int], npt.NDArray[np.float64], npt.NDArray[np.bool_]
]


@dataclass(frozen=True)
class Upsert:
    """Points written, as given to Qdrant (`PointStruct`s: id, payload, named vectors)."""

    points: Sequence[Any]


@dataclass(frozen=True)
class DeleteIds:
    ids: Sequence[str]


@dataclass(frozen=True)
class DeleteWhere:
    """The points whose payload `key` is `value` (Qdrant's `MatchValue` on one key)."""

    key: str
    value: str


Change: TypeAlias = Upsert | DeleteIds | DeleteWhere


@dataclass(frozen=True)
class Snapshot:
    ids: npt.NDArray[np.str_]  # point ids, ascending
    payloads: list[dict[str, Any]]
    dense: FloatMatrix  # (points, dim), unit rows
    sparse: sp.csr_matrix | None  # (points, terms seen), columns in `columns` order
    columns: dict[int, int]  # sparse term index -> column
    document_frequency: npt.NDArray[np.float64]  # per column
    has_sparse: npt.NDArray[np.bool_]  # per point: does it have the sparse vector
    vectors: tuple[str, str | None]  # the names of the dense and the sparse vector

    @classmethod
    def load(cls, client: Any, collection: str, dense: str, keyword: str | None) -> Snapshot:
        """Read every point (payload and vectors) of `collection` with `scroll`."""
        names = [dense] if keyword is None else [dense, keyword]
        points: list[Any] = []
        offset = None
        while True:
            page, offset = client.scroll(
                collection, limit=2048, offset=offset, with_payload=True, with_vectors=names
            )
            points += page
            if offset is None:
                break
        return cls.empty(dense, keyword).apply([Upsert(points)])

    @classmethod
    def empty(cls, dense: str, keyword: str | None) -> Snapshot:
        """No points yet; `dense` and `keyword` name the vectors that `apply` will read."""
        return cls(
            np.array([], dtype=str),
            [],
            np.zeros((0, 0), np.float32),
            None,
            {},
            np.zeros(0),
            np.zeros(0, dtype=bool),
            (dense, keyword),
        )

    @property
    def sparse_points(self) -> int:
        """N in the IDF formula: the points that have the sparse vector."""
        return int(self.has_sparse.sum())

    def apply(self, changes: Sequence[Change]) -> Snapshot:
        """This snapshot with `changes` applied in order, as a new one (this one is left as
        it is, for the searches still reading it; returned when there are none). Costs a
        copy of the arrays and time in the size of the changes, not a read of every point."""
        if not changes:
            return self
        removed = np.zeros(len(self), dtype=bool)
        added: dict[str, Any] = {}  # point id -> its latest write
        payload_index: dict[str, dict[str, list[int]]] = {}
        for change in changes:
            if isinstance(change, Upsert):
                ids = [str(p.id) for p in change.points]
                removed[self._positions(ids)] = True
                added.update(zip(ids, change.points))
            elif isinstance(change, DeleteIds):
                removed[self._positions(change.ids)] = True
                for point in change.ids:
                    added.pop(point, None)
            else:
                if change.key not in payload_index:
                    payload_index[change.key] = self._payload_index(change.key)
                removed[payload_index[change.key].get(change.value, [])] = True
                added = {
                    i: p
                    for i, p in added.items()
                    if (p.payload or {}).get(change.key) != change.value
                }
        return self._merged(np.flatnonzero(~removed), [added[i] for i in sorted(added)])

    def _positions(self, ids: Sequence[str]) -> npt.NDArray[np.intp]:
        """The positions of those of `ids` this snapshot holds."""
        if not len(self) or not ids:
            return np.zeros(0, dtype=np.intp)
        wanted = np.asarray(ids, dtype=str)
        at = np.minimum(np.searchsorted(self.ids, wanted), len(self) - 1)
        return at[self.ids[at] == wanted]

    def _payload_index(self, key: str) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for position, payload in enumerate(self.payloads):
            value = payload.get(key)
            if isinstance(value, str):
                index.setdefault(value, []).append(position)
        return index

    def _merged(self, keep: npt.NDArray[np.intp], points: list[Any]) -> Snapshot:
        """The kept rows of this snapshot and `points` (in id order, none of them kept),
        merged in id order."""
        dense_name, keyword = self.vectors
        new_ids = np.asarray([str(p.id) for p in points], dtype=str)
        kept_ids = self.ids[keep]
        total = len(keep) + len(points)
        is_new = np.zeros(total, dtype=bool)
        is_new[np.searchsorted(kept_ids, new_ids) + np.arange(len(points))] = True
        old_at, new_at = np.flatnonzero(~is_new), np.flatnonzero(is_new)

        ids = np.empty(total, dtype=np.result_type(kept_ids, new_ids))
        ids[old_at], ids[new_at] = kept_ids, new_ids
        payloads: list[dict[str, Any]] = [{}] * total
        for at, position in zip(old_at.tolist(), keep.tolist()):
            payloads[at] = self.payloads[position]
        for at, point in zip(new_at.tolist(), points):
            payloads[at] = dict(point.payload or {})

        rows = [_vectors(p)[dense_name] for p in points]
        fresh = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1 if rows else 0)
        fresh /= np.maximum(np.linalg.norm(fresh, axis=1, keepdims=True), 1e-12)
        dim = fresh.shape[1] if len(points) else self.dense.shape[1]
        dense = np.empty((total, dim), dtype=np.float32)
        if len(keep):
            dense[old_at] = self.dense[keep]
        if len(points):
            dense[new_at] = fresh
        if keyword is None:
            no_sparse: _SparsePart = (None, {}, np.zeros(0), np.zeros(total, dtype=bool))
            return Snapshot(ids, payloads, dense, *no_sparse, self.vectors)
        sparse = self._merged_sparse(keyword, keep, points, old_at, new_at)
        return Snapshot(ids, payloads, dense, *sparse, self.vectors)

    def _merged_sparse(
        self,
        keyword: str,
        keep: npt.NDArray[np.intp],
        points: list[Any],
        old_at: npt.NDArray[np.intp],
        new_at: npt.NDArray[np.intp],
    ) -> _SparsePart:
        """`_merged`'s sparse fields. New terms get new columns; document frequencies are
        counted again, in one pass over the stored terms."""
        vectors = [_vectors(p).get(keyword) for p in points]
        columns = dict(self.columns)
        new_rows = _sparse_rows([_sparse(v) for v in vectors], columns)
        order = np.empty(len(old_at) + len(new_at), dtype=np.intp)
        order[old_at], order[new_at] = np.arange(len(keep)), len(keep) + np.arange(len(points))
        old_rows = self._sparse_rows(keep, len(columns))
        matrix = sp.vstack([old_rows, new_rows], format="csr")[order]
        has_sparse = np.empty(len(order), dtype=bool)
        has_sparse[old_at] = self.has_sparse[keep]
        has_sparse[new_at] = [v is not None for v in vectors]
        frequency = np.bincount(matrix.indices, minlength=len(columns)).astype(np.float64)
        return matrix, columns, frequency, has_sparse

    def _sparse_rows(self, keep: npt.NDArray[np.intp], width: int) -> sp.csr_matrix:
        """The kept rows of the sparse matrix, `width` columns wide."""
        if self.sparse is None:
            return sp.csr_matrix((len(keep), width), dtype=np.float64)
        rows = self.sparse[keep]
        return sp.csr_matrix((rows.data, rows.indices, rows.indptr), shape=(len(keep), width))

    def __len__(self) -> int:
        return len(self.payloads)

    def dense_top(
        self, queries: FloatMatrix, k: int, threshold: float | None = None
    ) -> list[list[tuple[int, float]]]:
        """(point position, cosine) of the k best points per query row, best first; with
        `threshold`, only scores above it (Qdrant's `score_threshold`)."""
        if not len(self) or k <= 0:
            return [[] for _ in queries]
        unit = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
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

    def sparse_top(
        self, indices: Sequence[int], values: Sequence[float], k: int
    ) -> list[tuple[int, float]]:
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


def _vectors(point: Any) -> dict[str, Any]:
    return point.vector if isinstance(point.vector, dict) else {}


def _sparse(vector: Any) -> SparseRow:
    return None if vector is None else (vector.indices, vector.values)


def _sparse_rows(rows: list[SparseRow], columns: dict[int, int]) -> sp.csr_matrix:
    """`rows` as a CSR matrix over `columns`, which gains a column per new term."""
    indptr = [0]
    cols: list[int] = []
    data: list[float] = []
    for row in rows:
        if row is not None:
            for index, value in zip(*row):
                cols.append(columns.setdefault(int(index), len(columns)))
                data.append(float(value))
        indptr.append(len(cols))
    return sp.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(cols, dtype=np.int64), indptr),
        shape=(len(rows), len(columns)),
    )


def _top(scores: npt.NDArray[Any], k: int) -> list[tuple[int, float]]:
    top = min(k, len(scores))
    if top == 0:
        return []
    best = np.argpartition(-scores, top - 1)[:top]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best]
