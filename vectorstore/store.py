"""Persistent Chroma store (cosine space) keyed by source file, with deterministic chunk ids, that survives
being killed at any moment.

Two layers under one directory:
- `manifest.sqlite3` (vectorstore/manifest.py) is the source of truth: the live chunk ids of every source,
  and a copy of every chunk with its vector. SQLite transactions make it crash-safe.
- `chroma/` is the search index, derived from the manifest. Chroma's HNSW files are not crash-safe, so a
  process that finds the index unreadable after a crash rebuilds it from the manifest (vectorstore/recovery.py).

A write embeds and stores the new chunks (manifest copy first, then Chroma), switches the manifest row in one
transaction, then drops the old chunks; readers only see ids the manifest lists. A crash at any point leaves
the old or the new version visible, never half of one; leftovers are swept by the next write. One writer
process per directory (Chroma is not process-safe); see docs/api.md for server mode.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from base.errors import StoreError, StoreRecovering, StoreUnavailable, StoreWriteError
from base.faults import fault_point
from base.types import Hit
from providers.embeddings import embedding_id as get_embedding_id
from vectorstore.chroma import (
    chroma_reason,
    http_client,
    is_chroma_error,
    open_collection,
    persistent_client,
    release_chroma,
)
from vectorstore.manifest import Manifest, SourceInfo, StoredChunk, StoreEvent, batches, utc_now
from vectorstore.recovery import PROBE_SAMPLES, OpenMarkers, RebuildError, probe_index, rebuild_index
from vectorstore.views import (
    chunk_ids_for,
    embed_chunks,
)

Progress = Callable[[int, int], None]
logger = logging.getLogger(__name__)


# How a full disk or a file-size limit reads in SQLite's, Rust's (Chroma's index) and the C library's messages.
DISK_SYMPTOMS = ("database or disk is full", "disk I/O error", "No space left", "File too large", "os error 27",
                 "os error 28", "Disk quota exceeded")  # fmt: skip


def io_reason(exc: BaseException) -> str:
    """A disk problem in words staff can act on."""
    if isinstance(exc, OSError) and exc.errno in (errno.EFBIG, errno.ENOSPC, errno.EDQUOT):
        return "the disk is full or a file-size limit was reached"
    text = str(exc)
    for symptom in DISK_SYMPTOMS:
        if symptom in text:
            return f"the disk is full or failing ({symptom})"
    if is_chroma_error(exc):
        return f"{chroma_reason(exc)}; check the free disk space"
    return f"{type(exc).__name__}: {text}"[:200]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class UpsertResult:
    """What one ingest did: status is added, replaced or unchanged."""

    source: str
    status: str
    chunks: int
    documents: int
    embedded: int
    removed: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class Health:
    """What the store can serve right now (stats reads only the manifest; this opens the index)."""

    status: str  # ok | recovering | unavailable
    documents: int
    chunks: int
    indexed: int | None
    detail: str = ""


class KnowledgeStore:
    """Chroma collection + manifest under one directory. Thread-safe within one process.

    `recover_in_background`: when the index must be rebuilt after a crash, do it in a thread and answer
    `StoreRecovering` meanwhile (the app: customers get "one moment"), instead of in the calling thread (CLI)."""

    def __init__(
        self,
        store_dir: str | Path,
        embeddings: Embeddings,
        collection: str = "knowledge",
        chroma_url: str | None = None,
        recover_in_background: bool = False,
    ) -> None:
        self.dir = Path(store_dir)
        self.chroma_url = chroma_url
        self.embeddings = embeddings
        self.embedding_id = get_embedding_id(embeddings)
        self.collection_name = collection
        self.recover_in_background = recover_in_background
        self.manifest = Manifest(self.dir / "manifest.sqlite3")
        self._markers = OpenMarkers(self.dir)
        self._lock = threading.RLock()
        self._collection = None
        self._registered = False
        self._suspect = False  # a Chroma call failed: check the index before trusting it again
        self._recovery: threading.Thread | None = None
        self._failure: str | None = None
        self._active: set[str] | None = None
        self._active_version: int | None = None
        self._listeners: list[Callable[[], None]] = []
        self._source_locks: dict[str, threading.Lock] = {}
        self._writers = 0  # writes in flight in this process (each holds its source's lock)
        self._dirty = False  # a write failed part-way: its leftovers wait for the next sweep

    # -- plumbing -----------------------------------------------------------------------------------
    @property
    def files_dir(self) -> Path:
        """Copies of ingested files, kept so the store can be re-indexed (e.g. after a model change)."""
        return self.dir / "files"

    @property
    def chroma_dir(self) -> Path:
        return self.dir / "chroma"

    @property
    def _marker(self) -> Path:
        """Exists while a write is between its first chunk and its last delete; leftovers are swept if it survives."""
        return self.dir / "ingest.inprogress"

    def _check_model(self) -> None:
        stored = self.manifest.get_meta("embedding_id")
        if stored is None:
            self.manifest.set_meta("embedding_id", self.embedding_id)
        elif stored != self.embedding_id:
            raise StoreError(
                f"the store at {self.dir} was built with embedding model '{stored}' but the app is configured "
                f"with '{self.embedding_id}'; run `python cli.py reindex` or point --store at another directory"
            )

    def collection(self):
        """The Chroma collection, opened (and, after a crash, checked or rebuilt) on first use.

        Once open it is returned without the write lock, so searches never wait for a long ingest; while the
        index is being rebuilt, `StoreRecovering` is raised at once instead of waiting."""
        col = self._collection
        if col is not None:
            return col
        self._raise_if_unavailable()
        with self._lock:
            if self._collection is None:
                self._raise_if_unavailable()
                self._open()
            return self._collection

    def _raise_if_unavailable(self) -> None:
        if self._recovery is not None and self._recovery.is_alive():
            raise StoreRecovering("the search index is being rebuilt after a crash; it is back in a moment")
        if self._failure is not None:
            raise StoreUnavailable(self._failure)

    def _open(self) -> None:
        """Open the index; check it in a child process first if a process died with it open (or it failed)."""
        self._check_model()
        if self.chroma_url:
            self._collection = open_collection(http_client(self.chroma_url), self.collection_name, self.embedding_id)
            return
        stale, live = self._markers.others()
        if not self._registered:
            self._markers.register()
            self._registered = True
        checked = bool(stale) or self._suspect
        if checked:
            verdict = self._probe()
            if not verdict.ok:
                if live:
                    raise StoreUnavailable(
                        f"the search index is unreadable ({verdict.reason}) and other processes ({live}) have the "
                        "store open; stop them so it can be rebuilt"
                    )
                self._recover(verdict.reason, stale)
                return
            OpenMarkers.clear(stale)
            self._suspect = False
        self._collection = open_collection(persistent_client(self.chroma_dir), self.collection_name, self.embedding_id)
        if checked or self._copies_missing():
            try:
                self._reconcile()
            except StoreUnavailable:
                if checked or not self._suspect:
                    raise
                self._open()  # the index failed on its first use: check it in a child (and rebuild) now
                return
        if stale and not live and self._marker.exists():  # the dead process was writing: finish its cleanup
            self._sweep_orphans()

    def _probe(self):
        live = sorted(self.manifest.live_ids())
        step = max(1, len(live) // PROBE_SAMPLES)
        samples = [c for batch in self.manifest.get_chunks(live[::step][:PROBE_SAMPLES]) for c in batch]
        release_chroma(self.chroma_dir)  # this process must not keep a view of the index the child judges
        return probe_index(self.chroma_dir, self.collection_name, samples, len(live))

    def _copies_missing(self) -> bool:
        """True for a store written before the manifest kept chunk copies (they are filled in once)."""
        with self.manifest.connect() as con:
            copies = con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return copies < self.stats()["chunks"]

    def _reconcile(self) -> None:
        """After a check: copy into the manifest what only Chroma holds (older stores), and put back into
        Chroma any live chunk it lacks (from the manifest's copy)."""
        in_index = set(self._chroma(lambda col: col.get(include=[])["ids"], "check"))
        live, copies = self.manifest.live_ids(), self.manifest.chunk_ids()
        backfill = sorted((live & in_index) - copies)
        include = ["embeddings", "documents", "metadatas"]
        for batch in batches(backfill, 1000):
            res = self._chroma(lambda col, b=batch: col.get(ids=b, include=include), "check")
            self.manifest.put_chunks(res["ids"], res["documents"], res["metadatas"], res["embeddings"])
        missing = live - in_index
        for chunks in self.manifest.get_chunks(missing):
            self._index(chunks)
        if missing - copies:
            self._collection = None
            self._failure = (
                f"{len(missing - copies)} live chunks are neither in the search index nor in the manifest; "
                "run `python cli.py reindex` to rebuild the store from its kept files"
            )
            self.manifest.add_event("recovery_failed", self._failure)
            raise StoreUnavailable(self._failure)

    # -- crash recovery -----------------------------------------------------------------------------
    def _recover(self, reason: str, stale: list[Path]) -> None:
        """Rebuild the index from the manifest, in a thread (then raise `StoreRecovering`) or right here."""
        logger.warning("knowledge store %s: the search index is unreadable (%s); rebuilding it", self.dir, reason)
        if not self.recover_in_background:
            self._rebuild(reason, stale)
            return
        self._recovery = threading.Thread(target=self._rebuild, args=(reason, stale), daemon=True, name="recovery")
        self._recovery.start()
        raise StoreRecovering("the search index is being rebuilt after a crash; it is back in a moment")

    def _rebuild(self, reason: str, stale: list[Path]) -> None:
        with self._lock:
            try:
                report = rebuild_index(self.dir, self.manifest, self.collection_name, self.embedding_id)
            except Exception as exc:
                if not isinstance(exc, (RebuildError, OSError)) and not is_chroma_error(exc):
                    raise
                self._failure = f"the search index is unreadable ({reason}) and could not be rebuilt: {exc}"
                self.manifest.add_event("recovery_failed", self._failure)
                logger.error("knowledge store %s: %s", self.dir, self._failure)
                if self.recover_in_background:
                    return
                raise StoreUnavailable(self._failure) from exc
            kept = f"; the unreadable index was kept in {report.kept_as.name}/" if report.kept_as else ""
            documents = f"{report.sources:,} document" + ("" if report.sources == 1 else "s")
            message = (
                f"The search index was unreadable after a crash ({reason}). Rebuilt it from the store's own "
                f"copies: {report.chunks:,} chunks of {documents} in {report.seconds:.1f} s; nothing was "
                f"re-embedded and no document was lost{kept}."
            )
            self.manifest.add_event("recovered", message)
            logger.warning("knowledge store %s: %s", self.dir, message)
            OpenMarkers.clear(stale)
            self._suspect = False
            self._collection = open_collection(
                persistent_client(self.chroma_dir), self.collection_name, self.embedding_id
            )
            if self._marker.exists():  # the process that died was writing: finish its cleanup
                self._sweep_orphans()

    def _chroma(self, call: Callable, kind: str = "write"):
        """Run `call(collection)`. A Chroma error marks the index suspect: it is checked in a child process (and
        rebuilt if unreadable) before its next use. A `read` does that now and calls once more; a `write` fails
        with `StoreWriteError` (its marker makes the next write sweep); a `check` fails with `StoreUnavailable`."""
        attempts = 2 if kind == "read" else 1
        for attempt in range(1, attempts + 1):
            try:
                return call(self.collection())
            except Exception as exc:
                if not is_chroma_error(exc):
                    raise
                with self._lock:
                    self._collection, self._suspect = None, True
                logger.info("knowledge store %s: Chroma failed (%s); checking the index", self.dir, exc)
                if kind == "write":
                    raise StoreWriteError(
                        f"the search index could not be written ({io_reason(exc)}); nothing was changed"
                    ) from exc
                if attempt == attempts:
                    text = str(exc)
                    if "compaction" in text.lower() or any(symptom in text for symptom in DISK_SYMPTOMS):
                        # Chroma folds its write log into the index on reads too: that is a write that failed
                        raise StoreUnavailable(f"the search index could not be updated ({io_reason(exc)})") from exc
                    raise StoreUnavailable(f"the search index failed ({chroma_reason(exc)})") from exc

    def close(self) -> None:
        """Release the Chroma client (needed before the directory is moved, see `release_chroma`)."""
        with self._lock:
            self._collection = None
            self._active = None
            release_chroma(self.chroma_dir)
            if self._registered:
                self._markers.unregister()
                self._registered = False

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every write (the BM25 index uses it to rebuild)."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        self._active = None
        for callback in self._listeners:
            callback()

    def active_ids(self) -> set[str]:
        """Ids of the live chunks (reloaded when the manifest's generation moved, e.g. another process wrote)."""
        version = self.manifest.generation()
        if self._active is None or version != self._active_version:
            self._active, self._active_version = self.manifest.live_ids(), version
        return self._active

    # -- reading ------------------------------------------------------------------------------------
    def list_sources(self, with_ids: bool = False) -> list[SourceInfo]:
        """Every source in the store, newest first."""
        return self.manifest.select(with_ids=with_ids)

    def get_source(self, source: str) -> SourceInfo | None:
        """One source with its chunk ids, or None."""
        found = self.manifest.select("WHERE source=?", (source,))
        return found[0] if found else None

    def stats(self) -> dict[str, int]:
        """`documents` = source files, `chunks` = live vectors (from the manifest; `health` opens the index)."""
        infos = self.list_sources()
        return {"documents": len(infos), "chunks": sum(i.chunks for i in infos)}

    def health(self) -> Health:
        """Open the index (checking or rebuilding it after a crash) and count what it holds."""
        stats = self.stats()
        try:
            indexed = self._chroma(lambda col: col.count(), "read")
        except StoreRecovering as exc:
            return Health("recovering", stats["documents"], stats["chunks"], None, str(exc))
        except StoreUnavailable as exc:
            return Health("unavailable", stats["documents"], stats["chunks"], None, str(exc))
        if indexed < stats["chunks"]:
            detail = f"the index holds {indexed} of {stats['chunks']} live chunks"
            return Health("unavailable", stats["documents"], stats["chunks"], indexed, detail)
        return Health("ok", stats["documents"], stats["chunks"], indexed)

    def events(self, limit: int = 20) -> list[StoreEvent]:
        """What happened to the store that staff should know (recoveries), newest first."""
        return self.manifest.events(limit)

    def is_empty(self) -> bool:
        return self.stats()["chunks"] == 0

    def search_by_vectors(self, vectors: Sequence[Sequence[float]], k: int) -> list[list[Hit]]:
        """`search_by_vector` for many vectors in one index query (the decline calibration scores ~600)."""
        active = self.active_ids()
        if not active or not vectors:
            return [[] for _ in vectors]
        n = k + 8  # Chroma returns fewer when it holds fewer (no count() first: 11 ms per search at 100k chunks)
        query = [np.asarray(v, dtype=np.float32).tolist() for v in vectors]
        include = ["documents", "metadatas", "distances"]
        res = self._chroma(lambda col: col.query(query_embeddings=query, n_results=n, include=include), "read")
        out = []
        for row, vector in enumerate(vectors):
            hits = [
                Hit(i, d or "", (m or {}).get("source", ""), 1.0 - float(dist), dict(m or {}))
                for i, d, m, dist in zip(
                    res["ids"][row], res["documents"][row], res["metadatas"][row], res["distances"][row], strict=True
                )
                if i in active
            ]
            # Too few live chunks among the first n (many stale ones): ask again for this vector alone.
            exhausted = len(res["ids"][row]) < n
            out.append(hits[:k] if len(hits) >= k or exhausted else self.search_by_vector(vector, k))
        return out

    def search_by_vector(self, vector: Sequence[float], k: int) -> list[Hit]:
        """Top-k live chunks by cosine similarity."""
        active = self.active_ids()
        if not active:
            return []
        n = k + 8  # Chroma returns fewer when it holds fewer (asking count() first cost 11 ms per search at 100k)
        query = [np.asarray(vector, dtype=np.float32).tolist()]
        include = ["documents", "metadatas", "distances"]
        while True:
            res = self._chroma(lambda col, n=n: col.query(query_embeddings=query, n_results=n, include=include), "read")
            hits = [
                Hit(i, d or "", (m or {}).get("source", ""), 1.0 - float(dist), dict(m or {}))
                for i, d, m, dist in zip(
                    res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True
                )
                if i in active
            ]
            if len(hits) >= k or len(res["ids"][0]) < n:  # enough, or every chunk Chroma holds was returned
                return hits[:k]
            n *= 4

    def get_chunks(self, ids: Sequence[str] | None = None) -> list[Hit]:
        """Live chunks (all of them when `ids` is None) with text and metadata, score 0."""
        active = self.active_ids()
        wanted = sorted(active if ids is None else set(ids) & active)
        out: list[Hit] = []
        for batch in batches(wanted):
            res = self._chroma(lambda col, b=batch: col.get(ids=b, include=["documents", "metadatas"]), "read")
            for i, d, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True):
                out.append(Hit(i, d or "", (m or {}).get("source", ""), 0.0, dict(m or {})))
        return out

    def products(self) -> list[Hit]:
        """Every live product with its metadata (no text; score 0), read from the manifest in one query: the
        product desk filters these in memory. Chroma's own metadata filters took p95 409 ms per question at 10k
        products (bench/results/catalogue_scale_ingest.txt as of 052e53a); the manifest read is one query per store
        change."""
        active = self.active_ids()
        return [Hit(i, "", str(m.get("source", "")), 0.0, m) for i, m in self.manifest.metadata_of_type("product")
                if i in active]  # fmt: skip

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (from the manifest's copies: one query per batch, no index needed)."""
        return {c.id: c.vector for batch in self.manifest.get_chunks(ids) for c in batch}

    # -- writing ------------------------------------------------------------------------------------
    def _source_lock(self, source: str) -> threading.Lock:
        with self._lock:
            return self._source_locks.setdefault(source, threading.Lock())

    @contextmanager
    def _writing(self, source: str) -> Iterator[None]:
        """One write to `source`: serialised with other writes to the same source only, so a long upload does not
        hold up the others (its batches run without the store lock). The marker file exists while writes are in
        flight; one that dies leaves it, and the next write (or the next process to open the store) sweeps its
        leftovers. A disk that is full (or any I/O error) becomes one `StoreWriteError`: nothing live changed."""
        with self._source_lock(source):
            ok = False
            try:
                with self._lock:
                    self.collection()
                    if self._writers == 0 and self._marker.exists():
                        self._sweep_orphans()
                    self._marker.write_text(source, encoding="utf-8")
                    self._writers += 1
                try:
                    yield
                    ok = True
                finally:
                    with self._lock:
                        self._writers -= 1
                        self._dirty |= not ok
                        if self._writers == 0 and not self._dirty:
                            fault_point("store.before_marker_clear")
                            self._marker.unlink(missing_ok=True)
            except (OSError, sqlite3.Error) as exc:
                raise StoreWriteError(f"could not write the store ({io_reason(exc)}); nothing was changed") from exc

    def _sweep_orphans(self) -> None:
        """Finish what a write that died left: kept copies the manifest already points at are moved in (others
        dropped), and chunks no manifest row points at are deleted from Chroma and the manifest."""
        for incoming in self.files_dir.glob("*.incoming") if self.files_dir.is_dir() else []:
            info = self.get_source(incoming.name.removesuffix(".incoming"))
            if info is not None and file_sha256(incoming) == info.sha256:
                incoming.replace(self.files_dir / info.source)
            else:
                incoming.unlink()
        live = self.manifest.live_ids()
        orphans = [i for i in self._chroma(lambda col: col.get(include=[])["ids"]) if i not in live]
        for batch in batches(orphans):
            self._chroma(lambda col, b=batch: col.delete(ids=b))
        self.manifest.delete_chunks(self.manifest.chunk_ids() - live)
        self._marker.unlink(missing_ok=True)
        self._dirty = False

    def _index(self, chunks: list[StoredChunk]) -> None:
        """Put chunks (already copied in the manifest) into Chroma."""
        self._chroma(
            lambda col: col.upsert(
                ids=[c.id for c in chunks],
                embeddings=[np.asarray(c.vector, dtype=np.float32).tolist() for c in chunks],
                documents=[c.text for c in chunks],
                metadatas=[c.metadata or None for c in chunks],
            )
        )

    def _store_new_chunks(self, todo: list[tuple[str, Document]], progress: Progress | None, batch_size: int) -> None:
        """Embed and store chunks the index lacks: manifest copy first, then Chroma, batch by batch."""
        copied = [c for batch in self.manifest.get_chunks(i for i, _ in todo) for c in batch]
        have = {c.id for c in copied}
        if copied:  # e.g. a live chunk the index lost: no need to embed it again
            self._index(copied)
        fresh = [(i, d) for i, d in todo if i not in have]
        if progress:
            progress(0, len(fresh))
        for start in range(0, len(fresh), batch_size):
            batch = fresh[start : start + batch_size]
            vectors = embed_chunks(self.embeddings, [d for _, d in batch])
            chunks = [StoredChunk(i, d.page_content, d.metadata, v) for (i, d), v in zip(batch, vectors, strict=True)]
            self.manifest.put_chunks([c.id for c in chunks], [c.text for c in chunks],
                                     [c.metadata for c in chunks], vectors)  # fmt: skip
            self._index(chunks)
            fault_point("store.after_batch")
            if progress:
                progress(start + len(batch), len(fresh))

    def upsert_source(
        self,
        source: str,
        docs: list[Document],
        *,
        sha256: str,
        raw_file: Path | None = None,
        progress: Progress | None = None,
        batch_size: int = 256,
        held: list[tuple[str, str]] | None = None,
    ) -> UpsertResult:
        """Make `docs` the live version of `source`: embed what is new, switch, then drop the old chunks. `held`:
        (text, reason) of the passages of this version kept out for staff review, recorded with the switch."""
        if not docs:
            raise ValueError("no documents to store")
        self._raise_if_unavailable()  # a write during a rebuild is refused at once, not queued behind it
        ids = chunk_ids_for(docs)
        if len(set(ids)) != len(ids):
            raise ValueError(f"{source}: duplicate chunk ids (repeated document ids in one file)")
        with self._writing(source):
            old = self.get_source(source)
            if self._unchanged(old, sha256, ids, held or []):
                return UpsertResult(source, "unchanged", len(ids), old.documents, 0, 0)
            embedded = self._embed_missing(ids, docs, progress, batch_size)
            n_docs = len({d.metadata["doc_id"] for d in docs})
            info = SourceInfo(source, str(docs[0].metadata.get("type", "document")), sha256, len(ids), n_docs,
                              utc_now(), ids)  # fmt: skip
            self._switch(info, raw_file, held)
            stale = sorted(set(old.chunk_ids) - set(ids)) if old else []
            self._drop_chunks(stale)
            return UpsertResult(source, "replaced" if old else "added", len(ids), n_docs, embedded, len(stale))

    def _unchanged(self, old: SourceInfo | None, sha256: str, ids: list[str], held: list[tuple[str, str]]) -> bool:
        """The same file with the same chunks and the same passages held for review: nothing to write."""
        if old is None or old.sha256 != sha256 or set(old.chunk_ids) != set(ids):
            return False
        return {(h.text, h.reason) for h in self.manifest.held() if h.source == old.source} == set(held)

    def _embed_missing(self, ids: list[str], docs: list[Document], progress: Progress | None, batch_size: int) -> int:
        """Embed and store the chunks the index does not hold yet (unchanged chunks are reused); returns how many."""
        present: set[str] = set()
        for batch in batches(ids):
            present.update(self._chroma(lambda col, b=batch: col.get(ids=b, include=[])["ids"]))
        todo = [(i, d) for i, d in zip(ids, docs, strict=True) if i not in present]
        self._store_new_chunks(todo, progress, batch_size)
        return len(todo)

    def _switch(self, info: SourceInfo, raw_file: Path | None, held: list[tuple[str, str]] | None) -> None:
        """Make the new version live: one manifest transaction, then the kept copy follows inside the crash
        window (an interrupted rename is finished on the next open)."""
        incoming = self._stage_copy(info.source, raw_file) if raw_file is not None else None
        fault_point("store.before_switch")
        with self._lock:  # readers reload the live ids after this
            self.manifest.switch(info, held)
            self._changed()
        fault_point("store.after_switch")
        if incoming is not None:
            incoming.replace(self.files_dir / info.source)

    def _drop_chunks(self, ids: Sequence[str]) -> None:
        for batch in batches(ids):
            self._chroma(lambda col, b=batch: col.delete(ids=b))
            fault_point("store.after_delete_batch")
        self.manifest.delete_chunks(ids)

    def _stage_copy(self, source: str, raw_file: Path) -> Path:
        """Copy the ingested file next to its final place (kept for reindex); renamed in after the switch."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        incoming = self.files_dir / f"{source}.incoming"
        shutil.copyfile(raw_file, incoming)
        return incoming

    def delete_source(self, source: str) -> int:
        """Remove a source and its chunks; returns how many chunks went (0 if it was unknown)."""
        self._raise_if_unavailable()
        with self._writing(source):
            old = self.get_source(source)
            if old is None:
                return 0
            with self._lock:
                self.manifest.remove(source)
                self._changed()
            fault_point("store.delete_after_switch")
            self._drop_chunks(old.chunk_ids)
            (self.files_dir / source).unlink(missing_ok=True)
            return old.chunks
