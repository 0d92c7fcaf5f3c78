"""`VectorIndex`: the only owner of Qdrant. Per workspace, up to three collections:

- `kgrag_<ws>_chunks`: one point per embedded unit (a chunk, or a two-level child that
  points at its parent), with a named dense vector and a sparse keyword vector (IDF);
- `kgrag_<ws>_entities`: one point per graph entity name, for linking and synonym edges;
- `kgrag_<ws>_keyinfo`: in workspaces that keep the key-information index, one point per
  reader chunk whose dense vector embeds the chunk's key information (its entities, key
  phrases and triples, `retrievers.keyinfo`) and whose payload points at the chunk.

Local mode (a folder) is real Qdrant code but not thread-safe and allows one client per
folder per process, so clients are shared per location and every call takes a lock. Qdrant
stores the points either way; in local mode searches run over an exact in-memory snapshot
of them (`local_snapshot`), updated with this process's writes, because local mode's own
search is a Python loop over every point. The consistency reads (`unit_chunks`,
`entity_keys`) read the snapshot too: a local scroll sorts every point id for each page.
"""

from __future__ import annotations

import atexit
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kgrag.core.errors import StoreUnavailableError
from kgrag.core.types import Hit
from kgrag.retrievers import sparse
from kgrag.retrievers.local_snapshot import Change, DeleteIds, DeleteWhere, Snapshot, Upsert
from kgrag.retrievers.local_storage import commit_without_fsync

DENSE = "dense"
KEYWORD = "keyword"
KEYINFO = "keyinfo"
_POINT_NAMESPACE = uuid.UUID("6f1c1d5e-4b8e-4d4a-9a57-5c3a2b8f0e11")


def point_id(key: str) -> str:
    """Qdrant ids must be UUIDs or integers: derive a stable UUID from our own id."""
    return str(uuid.uuid5(_POINT_NAMESPACE, key))


@dataclass(frozen=True)
class UnitRecord:
    """What `upsert_units` indexes for one embedded unit. `text` and `title` feed the
    keyword vector only: readers get chunk text from the graph, so payloads stay small."""

    unit_id: str
    chunk_id: str
    doc_id: str
    text: str
    title: str
    lang: str


@dataclass(frozen=True)
class KeyinfoRecord:
    """What `upsert_keyinfo` indexes for one reader chunk: its key-information string
    (kept in the payload, to show why a chunk was found)."""

    chunk_id: str
    doc_id: str
    text: str
    lang: str


class _Shared:
    """One Qdrant client per location, and the search snapshots of its local collections.

    Every write bumps its collection's generation; a snapshot of an older generation is
    stale. Inside a write batch (`VectorIndex.batch`) readers keep the last published
    snapshot, and the batch publishes a new one as it ends when searches are reading it,
    so a query never waits for a rebuild and never sees half a batch. A new snapshot is
    the published one with the writes since applied (`journal`), or read whole when they
    are not all known.

    Applying writes copies the snapshot's arrays, so a batch that refreshed a snapshot
    nobody searches would make an ingestion quadratic in the workspace (a sixth of its
    time at 80,000 passages, and growing). A snapshot no search has read since it was
    published is refreshed only once the writes waiting for it reach `REFRESH_SHARE` of
    its points (at most `REFRESH_MAX_PENDING`): each refresh then pays for a share of
    growth, and the journal stays bounded; the next search applies what is left."""

    REFRESH_SHARE = 0.1
    REFRESH_MAX_PENDING = 20_000

    def __init__(self, client: Any) -> None:
        self.client = client
        self.lock = threading.RLock()  # the client: local mode is not thread-safe
        self.generations: dict[str, int] = {}
        self.snapshots: dict[str, tuple[int, Snapshot]] = {}  # swapped whole, read lock-free
        self.batches: dict[str, int] = {}  # open write batches per collection
        self.rebuild = threading.Lock()  # one snapshot rebuild at a time
        # (generation, write) per write after the published snapshot; None: not described
        self.journal: dict[str, list[tuple[int, Change | None]]] = {}
        self.read: set[str] = set()  # collections a search has read since their publish

    def bump(self, collection: str, change: Change | None = None) -> None:
        """A write to `collection`, under the client lock; `change` describes it."""
        generation = self.generations.get(collection, 0) + 1
        self.generations[collection] = generation
        if collection in self.snapshots:  # else the next snapshot is read whole anyway
            self.journal.setdefault(collection, []).append((generation, change))

    def changes_since(self, collection: str, generation: int) -> list[Change] | None:
        """The writes after `generation`, in order; None unless every one is described."""
        entries = [e for e in self.journal.get(collection, []) if e[0] > generation]
        wanted = range(generation + 1, self.generations.get(collection, 0) + 1)
        changes = [change for _, change in entries if change is not None]
        if [g for g, _ in entries] != list(wanted) or len(changes) != len(entries):
            return None
        return changes

    def publish(self, collection: str, generation: int, snapshot: Snapshot) -> None:
        """Under the client lock: searches get `snapshot`; older writes leave the journal."""
        self.snapshots[collection] = (generation, snapshot)
        journal = self.journal.get(collection, [])
        self.journal[collection] = [e for e in journal if e[0] > generation]
        self.read.discard(collection)

    def worth_refreshing(self, collection: str) -> bool:
        """At a write batch's end: whether to refresh `collection`'s published snapshot
        now (searches are reading it, or enough writes wait for it) or leave the writes
        to the next search."""
        published = self.snapshots.get(collection)
        if published is None:
            return False
        if collection in self.read:
            return True
        pending = sum(
            len(change.points) if isinstance(change, Upsert) else 1
            for _, change in self.journal.get(collection, [])
        )
        return pending >= min(self.REFRESH_SHARE * len(published[1]), self.REFRESH_MAX_PENDING)


_CLIENTS: dict[tuple[str | None, str | None, str | None], _Shared] = {}
_CLIENTS_LOCK = threading.Lock()


def _shared_client(url: str | None, api_key: str | None, path: str | None) -> _Shared:
    from qdrant_client import QdrantClient

    with _CLIENTS_LOCK:
        key = (url, api_key, path)
        if key not in _CLIENTS:
            if url:
                client = QdrantClient(url=url, api_key=api_key)
            elif path in (None, ":memory:"):
                client = QdrantClient(":memory:")
            else:
                Path(path).mkdir(parents=True, exist_ok=True)
                try:
                    client = QdrantClient(path=path)
                except RuntimeError as exc:  # local mode locks the folder to one process
                    if "already accessed" not in str(exc):
                        raise
                    pid = _lock_holder(Path(path) / ".lock")
                    holder = f"another process (pid {pid})" if pid else "another process"
                    raise StoreUnavailableError(
                        f"the vector store {path} is in use by {holder}: stop the other "
                        "kgrag process using this home, or use a separate KGRAG_HOME"
                    ) from exc
                commit_without_fsync(client)  # the collections it opened
            if not _CLIENTS:
                atexit.register(close_shared_clients)  # before teardown breaks __del__
            _CLIENTS[key] = _Shared(client)
        return _CLIENTS[key]


def _lock_holder(lock_file: Path) -> int | None:
    """The pid holding the flock that local mode takes on `<folder>/.lock` (Qdrant writes
    no pid there), from /proc/locks; None off Linux or when it cannot be told."""
    import os

    try:
        st = lock_file.stat()
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    file_id = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in lines:  # "1: FLOCK  ADVISORY  WRITE 9928 fe:00:2156062 0 EOF"
        fields = line.split()  # a waiter's line has "->" in the second field
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == file_id:
            return int(fields[4]) or None  # 0: a process outside our pid namespace
    return None


def close_shared_clients(path: Path | str | None = None) -> None:
    """Release local folders (one client per folder per process): the one at `path`, or
    all of them at shutdown."""
    with _CLIENTS_LOCK:
        for key in [k for k in _CLIENTS if path is None or k[2] == str(path)]:
            shared = _CLIENTS.pop(key)
            with shared.lock:
                shared.client.close()


class VectorIndex:
    def __init__(
        self,
        workspace: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: Path | str | None = None,
    ) -> None:
        shared = _shared_client(url, api_key, None if url else str(path or ":memory:"))
        self._shared = shared
        self._client = shared.client
        self._lock = shared.lock
        self.local = url is None
        self.workspace = workspace
        self.chunks = f"kgrag_{workspace}_chunks"
        self.entities = f"kgrag_{workspace}_entities"
        self.keyinfo = f"kgrag_{workspace}_keyinfo"

    # ------------------------------------------------------------ collections
    def ensure(self, dim: int, keyinfo: bool = False) -> None:
        """The collections, created when missing; the key-information one with `keyinfo`."""
        from qdrant_client import models

        with self._lock:
            if keyinfo and not self._client.collection_exists(self.keyinfo):
                self._client.create_collection(
                    self.keyinfo,
                    vectors_config={
                        DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)
                    },
                )
            if not self._client.collection_exists(self.chunks):
                self._client.create_collection(
                    self.chunks,
                    vectors_config={
                        DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)
                    },
                    sparse_vectors_config={
                        KEYWORD: models.SparseVectorParams(modifier=models.Modifier.IDF)
                    },
                )
            if not self._client.collection_exists(self.entities):
                self._client.create_collection(
                    self.entities,
                    vectors_config={
                        DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)
                    },
                )
            commit_without_fsync(self._client)  # the collections just created

    def drop(self) -> None:
        with self._lock:
            for name in (self.chunks, self.entities, self.keyinfo):
                self._shared.bump(name)
                if self._client.collection_exists(name):
                    self._client.delete_collection(name)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes inside are published to searches together, when the batch ends; until
        then searches see the snapshot from before it (local mode). A collection nobody
        has searched yet gets its snapshot at its first search, not here: a process that
        only writes (a CLI ingestion, a no-op re-run) never reads every point."""
        names = (self.chunks, self.entities, self.keyinfo)
        with self._lock:
            for name in names:
                self._shared.batches[name] = self._shared.batches.get(name, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                for name in names:
                    self._shared.batches[name] -= 1
            if self.local:  # brings searched snapshots up to date; builds none anew
                kinds = ((self.chunks, KEYWORD), (self.entities, None), (self.keyinfo, None))
                for name, keyword in kinds:
                    if self._shared.worth_refreshing(name):
                        self._snapshot(name, keyword, searching=False)

    # ------------------------------------------------------------ chunk units
    def upsert_units(self, units: Sequence[UnitRecord], vectors: np.ndarray) -> None:
        from qdrant_client import models

        if len(units) != len(vectors):
            raise ValueError(f"{len(units)} units but {len(vectors)} vectors")
        points = []
        for unit, vector in zip(units, vectors):
            indices, values = sparse.document_vector(f"{unit.title}\n{unit.text}")
            points.append(
                models.PointStruct(
                    id=point_id(unit.unit_id),
                    vector={
                        DENSE: vector.tolist(),
                        KEYWORD: models.SparseVector(indices=indices, values=values),
                    },
                    payload={
                        "unit_id": unit.unit_id,
                        "chunk_id": unit.chunk_id,
                        "doc_id": unit.doc_id,
                        "lang": unit.lang,
                    },
                )
            )
        with self._lock:
            self._shared.bump(self.chunks, Upsert(points))
            for start in range(0, len(points), 256):
                self._client.upsert(self.chunks, points=points[start : start + 256], wait=True)

    def delete_document(self, doc_id: str) -> None:
        from qdrant_client import models

        selector = models.FilterSelector(
            filter=models.Filter(
                must=[models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))]
            )
        )
        with self._lock:
            for name in (self.chunks, self.keyinfo):
                self._shared.bump(name, DeleteWhere("doc_id", doc_id))
                if self._client.collection_exists(name):
                    self._client.delete(name, points_selector=selector, wait=True)

    def search_dense(self, vector: np.ndarray, k: int) -> list[Hit]:
        """Best units first, as `Hit`s of their reader chunk (one chunk may come back
        once per unit of a two-level index)."""
        if self.local:
            snap = self._snapshot(self.chunks, KEYWORD)
            if snap is None:
                return []
            return _hits(snap, snap.dense_top(vector[None, :], k)[0], DENSE)
        return self._query(self.chunks, vector.tolist(), DENSE, k)

    def search_keyword(self, text: str, k: int) -> list[Hit]:
        from qdrant_client import models

        indices, values = sparse.query_vector(text)
        if not indices:
            return []
        if self.local:
            snap = self._snapshot(self.chunks, KEYWORD)
            return [] if snap is None else _hits(snap, snap.sparse_top(indices, values, k), KEYWORD)
        return self._query(
            self.chunks, models.SparseVector(indices=indices, values=values), KEYWORD, k
        )

    def _snapshot(
        self, collection: str, keyword: str | None, current: bool = False, searching: bool = True
    ) -> Snapshot | None:
        """The search snapshot of a local collection (None when it does not exist): the
        published one while it is current or a write batch is open, else a new one. With
        `current`, one with every write so far, even in a batch (then not published).
        `searching`: a search reads it (what keeps it refreshed as batches end)."""
        shared = self._shared
        cached = shared.snapshots.get(collection)
        if cached is not None and (
            cached[0] == shared.generations.get(collection, 0)
            or (shared.batches.get(collection) and not current)
        ):
            if searching and not current:
                shared.read.add(collection)
            return cached[1]
        with shared.rebuild:
            cached = shared.snapshots.get(collection)  # another thread may have rebuilt it
            with self._lock:
                generation = shared.generations.get(collection, 0)
                if cached is not None and cached[0] == generation:
                    return cached[1]
                if not self._client.collection_exists(collection):
                    shared.snapshots.pop(collection, None)
                    shared.journal.pop(collection, None)
                    return None
                changes = None if cached is None else shared.changes_since(collection, cached[0])
                if cached is None or changes is None:
                    base, changes = Snapshot.load(self._client, collection, DENSE, keyword), []
                else:
                    base = cached[1]
            snap = base.apply(changes)  # outside the client lock: writes go on meanwhile
            with self._lock:
                if not (current and shared.batches.get(collection)):
                    shared.publish(collection, generation, snap)
                    if searching and not current:
                        shared.read.add(collection)
            return snap

    def _query(
        self, collection: str, query: Any, using: str, k: int, source: str | None = None
    ) -> list[Hit]:
        with self._lock:
            if not self._client.collection_exists(collection):
                return []
            points = self._client.query_points(
                collection, query=query, using=using, limit=k, with_payload=True
            ).points
        return [_hit(p.payload, float(p.score), source or using) for p in points if p.payload]

    def unit_chunks(self) -> dict[str, str]:
        """Chunk id -> document id of every stored unit: consistency checks."""
        return self._chunk_documents(self.chunks)

    def _chunk_documents(self, collection: str) -> dict[str, str]:
        if self.local and collection in self._shared.snapshots:  # searched: in memory
            keyword = KEYWORD if collection == self.chunks else None
            snap = self._snapshot(collection, keyword, current=True)
            payloads = [] if snap is None else snap.payloads
            return {str(p.get("chunk_id")): str(p.get("doc_id")) for p in payloads}
        out: dict[str, str] = {}
        offset = None
        with self._lock:
            if not self._client.collection_exists(collection):
                return out
            while True:
                points, offset = self._client.scroll(
                    collection,
                    limit=2048,
                    offset=offset,
                    with_payload=["chunk_id", "doc_id"],
                    with_vectors=False,
                )
                for p in points:
                    payload = p.payload or {}
                    out[str(payload.get("chunk_id"))] = str(payload.get("doc_id"))
                if offset is None:
                    return out

    def count(self) -> int:
        with self._lock:
            if not self._client.collection_exists(self.chunks):
                return 0
            return int(self._client.count(self.chunks, exact=True).count)

    # ------------------------------------------------------------ key information
    def upsert_keyinfo(self, records: Sequence[KeyinfoRecord], vectors: np.ndarray) -> None:
        """One point per reader chunk (its id derived from the chunk's: re-ingesting
        rewrites the same points)."""
        from qdrant_client import models

        if len(records) != len(vectors):
            raise ValueError(f"{len(records)} key-information records but {len(vectors)} vectors")
        points = [
            models.PointStruct(
                id=point_id(record.chunk_id),
                vector={DENSE: vector.tolist()},
                payload={
                    "chunk_id": record.chunk_id,
                    "doc_id": record.doc_id,
                    "lang": record.lang,
                    "keyinfo": record.text,
                },
            )
            for record, vector in zip(records, vectors)
        ]
        with self._lock:
            self._shared.bump(self.keyinfo, Upsert(points))
            for start in range(0, len(points), 256):
                self._client.upsert(self.keyinfo, points=points[start : start + 256], wait=True)

    def search_keyinfo(self, vector: np.ndarray, k: int) -> list[Hit]:
        """Reader chunks whose key information is nearest the query vector, best first
        (none when the workspace keeps no key-information index)."""
        if self.local:
            snap = self._snapshot(self.keyinfo, None)
            if snap is None:
                return []
            return _hits(snap, snap.dense_top(vector[None, :], k)[0], KEYINFO)
        return self._query(self.keyinfo, vector.tolist(), DENSE, k, source=KEYINFO)

    def keyinfo_chunks(self) -> dict[str, str]:
        """Chunk id -> document id of every key-information point: consistency checks."""
        return self._chunk_documents(self.keyinfo)

    # ------------------------------------------------------------ entity names
    def upsert_entities(
        self, keys: Sequence[str], names: Sequence[str], vectors: np.ndarray
    ) -> None:
        from qdrant_client import models

        points = [
            models.PointStruct(
                id=point_id(key), vector={DENSE: vec.tolist()}, payload={"key": key, "name": name}
            )
            for key, name, vec in zip(keys, names, vectors)
        ]
        with self._lock:
            self._shared.bump(self.entities, Upsert(points))
            for start in range(0, len(points), 512):
                self._client.upsert(self.entities, points=points[start : start + 512], wait=True)

    def delete_entities(self, keys: Sequence[str]) -> None:
        from qdrant_client import models

        if not keys:
            return
        ids = [point_id(k) for k in keys]
        with self._lock:
            self._shared.bump(self.entities, DeleteIds(ids))
            if self._client.collection_exists(self.entities):
                self._client.delete(
                    self.entities, points_selector=models.PointIdsList(points=[*ids]), wait=True
                )

    def entity_keys(self) -> set[str]:
        if self.local:
            snap = self._snapshot(self.entities, None, current=True)
            return set() if snap is None else {str(p.get("key")) for p in snap.payloads}
        keys: set[str] = set()
        offset = None
        with self._lock:
            if not self._client.collection_exists(self.entities):
                return keys
            while True:
                points, offset = self._client.scroll(
                    self.entities,
                    limit=2048,
                    offset=offset,
                    with_payload=["key"],
                    with_vectors=False,
                )
                keys.update(str((p.payload or {}).get("key")) for p in points)
                if offset is None:
                    return keys

    def search_entities(
        self, vectors: np.ndarray, k: int, threshold: float
    ) -> list[list[tuple[str, float]]]:
        """Nearest entity keys per query vector, above a cosine threshold (batched).

        A server answers from its HNSW index; local mode from the exact snapshot."""
        from qdrant_client import models

        if len(vectors) == 0:
            return []
        if self.local:
            snap = self._snapshot(self.entities, None)
            if snap is None:
                return [[] for _ in vectors]
            out: list[list[tuple[str, float]]] = []
            for start in range(0, len(vectors), 1024):  # bounded (queries x points) blocks
                block = snap.dense_top(vectors[start : start + 1024], k, threshold)
                out.extend([(str(snap.payloads[i]["key"]), s) for i, s in row] for row in block)
            return out
        requests = [
            models.QueryRequest(
                query=v.tolist(),
                using=DENSE,
                limit=k,
                with_payload=["key"],
                score_threshold=threshold,
            )
            for v in vectors
        ]
        with self._lock:
            if not self._client.collection_exists(self.entities):
                return [[] for _ in vectors]
            responses = self._client.query_batch_points(self.entities, requests=requests)
        return [
            [(str((p.payload or {})["key"]), float(p.score)) for p in resp.points]
            for resp in responses
        ]



def _hits(snap: Snapshot, ranked: list[tuple[int, float]], source: str) -> list[Hit]:
    return [_hit(snap.payloads[position], score, source) for position, score in ranked]


def _hit(payload: dict[str, Any], score: float, source: str) -> Hit:
    return Hit(
        chunk_id=str(payload["chunk_id"]),
        score=score,
        source=source,
        doc_id=str(payload["doc_id"]),
    )
