"""Persistent Chroma store (cosine space) keyed by source file, with deterministic chunk ids.

Chroma alone cannot replace a document atomically, so a small SQLite manifest records which chunk ids
make up the live version of each source. Ingest writes the new chunks first, then switches the manifest
in one transaction, then deletes the old chunks; readers only see ids the manifest lists. A crash at any
point leaves either the old or the new version visible, never half of one, and the orphans are swept on
the next write. One writer process per directory (Chroma is not process-safe); see README for server mode.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from core.embeddings import embedding_id as get_embedding_id
from loaders.base import short_hash

Progress = Callable[[int, int], None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,
    doc_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    chunk_ids TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    documents INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


_BATCH = 5000  # ids per Chroma get/delete call: keeps each SQLite statement well under its variable limit


def _batches(ids: Sequence[str]) -> Iterator[list[str]]:
    """`ids` in slices of `_BATCH`."""
    for start in range(0, len(ids), _BATCH):
        yield list(ids[start : start + _BATCH])


class StoreError(Exception):
    """The store cannot be used as configured (e.g. it was built with another embedding model)."""


def release_chroma(chroma_dir: Path) -> None:
    """Drop Chroma's process-wide client for `chroma_dir`: Chroma caches one per path, so after the
    directory is moved or replaced (reindex) it would keep serving the old, deleted files read-only."""
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(chroma_dir)
    system = SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)
    if system is not None:
        system.stop()


@dataclass
class Hit:
    """One retrieved chunk: `score` is cosine similarity in [-1, 1] (1 = same direction)."""

    id: str
    text: str
    source: str
    score: float
    metadata: dict

    def to_json(self) -> dict:
        return {"text": self.text, "source": self.source, "score": round(self.score, 4), "metadata": self.metadata}

    def to_document(self) -> Document:
        return Document(page_content=self.text, metadata={**self.metadata, "score": self.score, "chunk_id": self.id})


@dataclass
class SourceInfo:
    """A source file as the store knows it."""

    source: str
    doc_type: str
    sha256: str
    chunks: int
    documents: int
    updated_at: str
    chunk_ids: list[str] = field(default_factory=list, repr=False)


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


def embedding_text(doc: Document) -> str:
    """The text a chunk is embedded from: FAQ entries by their question (measured best: see README),
    everything else by its stored text."""
    if doc.metadata.get("type") == "faq" and doc.metadata.get("question"):
        return str(doc.metadata["question"])
    return doc.page_content


def chunk_ids_for(docs: Sequence[Document]) -> list[str]:
    """Ids for a file's chunks, numbered within each document so that an edit to one product or FAQ
    entry leaves every other entry's id (and vector) untouched."""
    counters: dict[str, int] = {}
    ids = []
    for doc in docs:
        n = counters.get(doc.metadata["doc_id"], 0)
        counters[doc.metadata["doc_id"]] = n + 1
        ids.append(chunk_id(doc, n))
    return ids


def chunk_id(doc: Document, index: int) -> str:
    """Deterministic id: document id + position in the document + content hash; same content, same id."""
    meta = json.dumps(doc.metadata, sort_keys=True, ensure_ascii=False, default=str)
    return f"{doc.metadata['doc_id']}#{index}:{short_hash(doc.page_content, embedding_text(doc), meta)}"


class KnowledgeStore:
    """Chroma collection + manifest under one directory. Thread-safe within one process."""

    def __init__(
        self,
        store_dir: str | Path,
        embeddings: Embeddings,
        collection: str = "knowledge",
        chroma_url: str | None = None,
    ) -> None:
        self.dir = Path(store_dir)
        self.chroma_url = chroma_url
        self.embeddings = embeddings
        self.embedding_id = get_embedding_id(embeddings)
        self.collection_name = collection
        self._lock = threading.RLock()
        self._collection = None
        self._active: set[str] | None = None
        self._active_version: float | None = None
        self._listeners: list[Callable[[], None]] = []

    # -- plumbing -----------------------------------------------------------------------------------
    @property
    def files_dir(self) -> Path:
        """Copies of ingested files, kept so the store can be re-indexed (e.g. after a model change)."""
        return self.dir / "files"

    @property
    def _marker(self) -> Path:
        """Exists while a write is between its Chroma and manifest steps; orphans are swept if it survives."""
        return self.dir / "ingest.inprogress"

    @property
    def _manifest_path(self) -> Path:
        return self.dir / "manifest.sqlite3"

    def _db(self) -> sqlite3.Connection:
        self.dir.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self._manifest_path, timeout=30)
        con.executescript(_SCHEMA)
        return con

    def _check_model(self, con: sqlite3.Connection) -> None:
        row = con.execute("SELECT value FROM meta WHERE key='embedding_id'").fetchone()
        if row is None:
            with con:
                con.execute("INSERT OR REPLACE INTO meta VALUES ('embedding_id', ?)", (self.embedding_id,))
        elif row[0] != self.embedding_id:
            raise StoreError(
                f"the store at {self.dir} was built with embedding model '{row[0]}' but the app is configured "
                f"with '{self.embedding_id}'; run `python cli.py reindex` or point --store at another directory"
            )

    def collection(self):
        """The Chroma collection, opened on first use (cosine space, no Chroma-side embedding function).

        Once open it is returned without the write lock, so searches never wait for a long ingest."""
        if self._collection is not None:
            return self._collection
        with self._lock:
            if self._collection is None:
                import chromadb
                from chromadb.config import Settings as ChromaSettings

                with self._db() as con:
                    self._check_model(con)
                chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
                if self.chroma_url:  # server mode (`chroma run`): several processes share one Chroma
                    from urllib.parse import urlparse

                    url = urlparse(self.chroma_url)
                    client = chromadb.HttpClient(
                        host=url.hostname or "127.0.0.1",
                        port=url.port or 8000,
                        ssl=url.scheme == "https",
                        settings=chroma_settings,
                    )
                else:
                    client = chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=chroma_settings)
                self._collection = client.get_or_create_collection(
                    self.collection_name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedding_id": self.embedding_id},
                )
            return self._collection

    def close(self) -> None:
        """Release the Chroma client (needed before the directory is moved, see `release_chroma`)."""
        with self._lock:
            self._collection = None
            self._active = None
            release_chroma(self.dir / "chroma")

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every write (the BM25 index uses it to rebuild)."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        self._active = None
        for callback in self._listeners:
            callback()

    def active_ids(self) -> set[str]:
        """Ids of the live chunks (reloaded when another process rewrote the manifest)."""
        version = self._manifest_path.stat().st_mtime if self._manifest_path.exists() else 0.0
        if self._active is None or version != self._active_version:
            ids: set[str] = set()
            for info in self.list_sources(with_ids=True):
                ids.update(info.chunk_ids)
            self._active, self._active_version = ids, version
        return self._active

    # -- reading ------------------------------------------------------------------------------------
    def _select(self, where: str = "", args: tuple = (), with_ids: bool = True) -> list[SourceInfo]:
        """Manifest rows as `SourceInfo`, newest first (chunk ids parsed only when asked for)."""
        if not self._manifest_path.exists():
            return []
        with self._db() as con:
            rows = con.execute(
                "SELECT source, doc_type, sha256, chunks, documents, updated_at, chunk_ids FROM sources "
                f"{where} ORDER BY updated_at DESC",
                args,
            ).fetchall()
        return [SourceInfo(*r[:6], json.loads(r[6]) if with_ids else []) for r in rows]

    def list_sources(self, with_ids: bool = False) -> list[SourceInfo]:
        """Every source in the store, newest first."""
        return self._select(with_ids=with_ids)

    def get_source(self, source: str) -> SourceInfo | None:
        """One source with its chunk ids, or None."""
        found = self._select("WHERE source=?", (source,))
        return found[0] if found else None

    def stats(self) -> dict[str, int]:
        """`documents` = source files, `chunks` = live vectors."""
        infos = self.list_sources()
        return {"documents": len(infos), "chunks": sum(i.chunks for i in infos)}

    def is_empty(self) -> bool:
        return self.stats()["chunks"] == 0

    def search_by_vector(self, vector: Sequence[float], k: int) -> list[Hit]:
        """Top-k live chunks by cosine similarity."""
        active = self.active_ids()
        if not active:
            return []
        col = self.collection()
        total = col.count()
        n = min(total, k + 8)
        while True:
            res = col.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
                n_results=n,
                include=["documents", "metadatas", "distances"],
            )
            hits = [
                Hit(i, d or "", (m or {}).get("source", ""), 1.0 - float(dist), dict(m or {}))
                for i, d, m, dist in zip(
                    res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True
                )
                if i in active
            ]
            if len(hits) >= k or n >= total:
                return hits[:k]
            n = min(total, n * 4)

    def get_chunks(self, ids: Sequence[str] | None = None) -> list[Hit]:
        """Live chunks (all of them when `ids` is None) with text and metadata, score 0."""
        active = self.active_ids()
        wanted = sorted(active if ids is None else set(ids) & active)
        out: list[Hit] = []
        col = self.collection()
        for batch in _batches(wanted):
            res = col.get(ids=batch, include=["documents", "metadatas"])
            for i, d, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True):
                out.append(Hit(i, d or "", (m or {}).get("source", ""), 0.0, dict(m or {})))
        return out

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (one Chroma call per batch, not per id)."""
        out: dict[str, np.ndarray] = {}
        for batch in _batches(ids):
            res = self.collection().get(ids=batch, include=["embeddings"])
            out.update(zip(res["ids"], (np.asarray(v, dtype=np.float32) for v in res["embeddings"]), strict=True))
        return out

    # -- writing ------------------------------------------------------------------------------------
    def _sweep_orphans(self) -> None:
        """Delete chunks no manifest row points at (left by a crash mid-ingest)."""
        col = self.collection()
        live = self.active_ids()
        existing = col.get(include=[])["ids"]
        orphans = [i for i in existing if i not in live]
        for batch in _batches(orphans):
            col.delete(ids=batch)

    def upsert_source(
        self,
        source: str,
        docs: list[Document],
        *,
        sha256: str,
        raw_file: Path | None = None,
        progress: Progress | None = None,
        batch_size: int = 256,
    ) -> UpsertResult:
        """Make `docs` the live version of `source`: embed what is new, switch, then drop the old chunks."""
        if not docs:
            raise ValueError("no documents to store")
        with self._lock:
            col = self.collection()
            marker = self._marker
            if marker.exists():
                self._sweep_orphans()
            old = self.get_source(source)
            ids = chunk_ids_for(docs)
            if len(set(ids)) != len(ids):
                raise ValueError(f"{source}: duplicate chunk ids (repeated document ids in one file)")
            if old is not None and old.sha256 == sha256 and set(old.chunk_ids) == set(ids):
                return UpsertResult(source, "unchanged", len(ids), old.documents, 0, 0)

            present: set[str] = set()
            for batch in _batches(ids):
                present.update(col.get(ids=batch, include=[])["ids"])
            todo = [(i, d) for i, d in zip(ids, docs, strict=True) if i not in present]
            marker.write_text(source, encoding="utf-8")
            done = 0
            if progress:
                progress(0, len(todo))
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                vectors = self.embeddings.embed_documents([embedding_text(d) for _, d in batch])
                col.upsert(
                    ids=[i for i, _ in batch],
                    embeddings=vectors,
                    documents=[d.page_content for _, d in batch],
                    metadatas=[d.metadata for _, d in batch],
                )
                done += len(batch)
                if progress:
                    progress(done, len(todo))

            n_docs = len({d.metadata["doc_id"] for d in docs})
            doc_type = str(docs[0].metadata.get("type", "document"))
            now = datetime.now(UTC).isoformat(timespec="seconds")
            incoming = self._stage_copy(source, raw_file) if raw_file is not None else None
            with self._db() as con:  # the switch: one transaction
                con.execute(
                    "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (source, doc_type, sha256, json.dumps(ids), len(ids), n_docs, now),
                )
            self._changed()
            if incoming is not None:  # the kept copy follows the manifest inside the crash window
                incoming.replace(self.files_dir / source)
            stale = sorted(set(old.chunk_ids) - set(ids)) if old else []
            if stale:
                col.delete(ids=stale)
            marker.unlink(missing_ok=True)
            return UpsertResult(source, "replaced" if old else "added", len(ids), n_docs, len(todo), len(stale))

    def _stage_copy(self, source: str, raw_file: Path) -> Path:
        """Copy the ingested file next to its final place (kept for reindex); renamed in after the switch."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        incoming = self.files_dir / f"{source}.incoming"
        shutil.copyfile(raw_file, incoming)
        return incoming

    def delete_source(self, source: str) -> int:
        """Remove a source and its chunks; returns how many chunks went (0 if it was unknown)."""
        with self._lock:
            old = self.get_source(source)
            if old is None:
                return 0
            col = self.collection()
            marker = self._marker
            if marker.exists():
                self._sweep_orphans()
            marker.write_text(source, encoding="utf-8")  # a crash below leaves orphans the next write sweeps
            with self._db() as con:
                con.execute("DELETE FROM sources WHERE source=?", (source,))
            self._changed()
            for batch in _batches(old.chunk_ids):
                col.delete(ids=batch)
            (self.files_dir / source).unlink(missing_ok=True)
            marker.unlink(missing_ok=True)
            return old.chunks
