"""The store's own SQLite record: which chunks are live, a durable copy of every chunk, and an event log.

Chroma's local HNSW index is not crash-safe (a SIGKILL while it persists can leave it unreadable; docs/crash-safety.md),
but SQLite is. So this file is the store's source of truth and Chroma is an index derived from it:

- `sources`: per source file, the ids of its live chunks. Writing a row is the atomic switch between two
  versions of a file; searches only return ids listed here.
- `chunks`: id, text, metadata and vector of every stored chunk. Written before Chroma is, so an index that
  a crash tore can be rebuilt from here in seconds, without parsing or embedding anything again.
- `held`: passages of each source kept out until staff review them (they read like instructions or fraud), and
  `reviews`: what staff decided for a passage (approved: it goes live on the next ingest; rejected: it stays out).
- `events`: what happened to the store that staff should know (recoveries), shown on the admin page.
- `meta`: the embedding model that built the store, and a generation number bumped on every switch (how
  other processes notice that the live set changed).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

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
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS held (
    source TEXT NOT NULL,
    passage TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (source, passage)
);
CREATE TABLE IF NOT EXISTS reviews (passage TEXT PRIMARY KEY, decision TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
"""

_BATCH = 5000  # ids per statement: well under SQLite's variable limit


def batches(ids: Sequence[str], size: int = _BATCH) -> Iterator[list[str]]:
    """`ids` in slices of `size` (for SQLite statements and Chroma id calls)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
class StoredChunk:
    """A chunk as kept in the manifest: enough to put it back into a fresh index."""

    id: str
    text: str
    metadata: dict
    vector: np.ndarray


@dataclass
class HeldPassage:
    """A passage of `source` waiting for staff review; `passage` identifies its text (`passage_id`)."""

    source: str
    passage: str
    text: str
    reason: str
    at: str


def passage_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class StoreEvent:
    at: str
    kind: str
    message: str


class Manifest:
    """Access to `manifest.sqlite3`; one short connection per call, so it is safe from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction on a fresh connection, closed afterwards (committed, or rolled back on error)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA synchronous=FULL")
            if not self._ready:
                con.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer's transaction
                con.executescript(_SCHEMA)
                self._ready = True
            with con:
                yield con
        finally:
            con.close()

    # -- meta ---------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.connect() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def generation(self) -> int:
        """Bumped by every switch; 0 for a store that was never written."""
        if not self.path.exists():
            return 0
        return int(self.get_meta("generation") or 0)

    @staticmethod
    def _bump(con: sqlite3.Connection) -> None:
        con.execute(
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # -- sources (the switch) -----------------------------------------------------------------------
    def select(self, where: str = "", args: tuple = (), with_ids: bool = True) -> list[SourceInfo]:
        """Source rows, newest first (chunk ids parsed only when asked for)."""
        if not self.path.exists():
            return []
        with self.connect() as con:
            rows = con.execute(
                "SELECT source, doc_type, sha256, chunks, documents, updated_at, chunk_ids FROM sources "
                f"{where} ORDER BY updated_at DESC",
                args,
            ).fetchall()
        return [SourceInfo(*r[:6], json.loads(r[6]) if with_ids else []) for r in rows]

    def live_ids(self) -> set[str]:
        ids: set[str] = set()
        for info in self.select():
            ids.update(info.chunk_ids)
        return ids

    def switch(self, info: SourceInfo, held: list[tuple[str, str]] | None = None) -> None:
        """Make `info` the live version of its source and `held` ((text, reason) pairs) the passages of that version
        waiting for review, in one transaction."""
        with self.connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?)",
                (info.source, info.doc_type, info.sha256, json.dumps(info.chunk_ids), info.chunks,
                 info.documents, info.updated_at),
            )  # fmt: skip
            con.execute("DELETE FROM held WHERE source=?", (info.source,))
            con.executemany(
                "INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?, ?)",
                [(info.source, passage_id(text), text, reason, info.updated_at) for text, reason in held or []],
            )
            self._bump(con)

    def remove(self, source: str) -> None:
        with self.connect() as con:
            con.execute("DELETE FROM sources WHERE source=?", (source,))
            con.execute("DELETE FROM held WHERE source=?", (source,))
            self._bump(con)

    # -- review of held passages --------------------------------------------------------------------
    def held(self) -> list[HeldPassage]:
        """Passages waiting for a decision (those staff kept out are not listed again)."""
        if not self.path.exists():
            return []
        with self.connect() as con:
            rows = con.execute(
                "SELECT source, passage, text, reason, at FROM held WHERE passage NOT IN "
                "(SELECT passage FROM reviews WHERE decision='rejected') ORDER BY at DESC, source, passage"
            ).fetchall()
        return [HeldPassage(*r) for r in rows]

    def held_of(self, source: str) -> set[tuple[str, str]]:
        """(text, reason) of every passage of `source` held back, whatever staff decided."""
        if not self.path.exists():
            return set()
        with self.connect() as con:
            return set(con.execute("SELECT text, reason FROM held WHERE source=?", (source,)).fetchall())

    def reviews(self) -> dict[str, str]:
        """passage id -> approved | rejected"""
        if not self.path.exists():
            return {}
        with self.connect() as con:
            return dict(con.execute("SELECT passage, decision FROM reviews").fetchall())

    def set_review(self, passage: str, decision: str) -> None:
        with self.connect() as con:
            con.execute("INSERT OR REPLACE INTO reviews VALUES (?, ?, ?)", (passage, decision, utc_now()))

    def copy_reviews(self, other: Manifest) -> None:
        """Carry staff decisions over to a store built afresh (reindex)."""
        decisions = other.reviews()
        with self.connect() as con:
            con.executemany("INSERT OR REPLACE INTO reviews VALUES (?, ?, ?)",
                            [(p, d, utc_now()) for p, d in decisions.items()])  # fmt: skip

    # -- chunks (durable copies) --------------------------------------------------------------------
    def put_chunks(self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict], vectors) -> None:
        """Keep copies of chunks (one transaction); written before Chroma sees them."""
        rows = [
            (i, t, json.dumps(m, ensure_ascii=False), np.asarray(v, dtype=np.float32).tobytes())
            for i, t, m, v in zip(ids, texts, metadatas, vectors, strict=True)
        ]
        with self.connect() as con:
            con.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?)", rows)

    def chunk_ids(self) -> set[str]:
        if not self.path.exists():
            return set()
        with self.connect() as con:
            return {r[0] for r in con.execute("SELECT id FROM chunks")}

    def get_chunks(self, ids: Iterable[str], batch_size: int = 1000) -> Iterator[list[StoredChunk]]:
        """Stored chunks for `ids` in lists of up to `batch_size` (unknown ids are skipped)."""
        for batch in batches(sorted(ids), batch_size):
            with self.connect() as con:
                rows = con.execute(
                    f"SELECT id, text, metadata, vector FROM chunks WHERE id IN ({','.join('?' * len(batch))})", batch
                ).fetchall()
            yield [StoredChunk(i, t, json.loads(m), np.frombuffer(v, dtype=np.float32)) for i, t, m, v in rows]

    def metadata_of_type(self, doc_type: str) -> list[tuple[str, dict]]:
        """(id, metadata) of every stored chunk of one type, live or not (callers keep the live ones)."""
        if not self.path.exists():
            return []
        with self.connect() as con:
            rows = con.execute(
                "SELECT id, metadata FROM chunks WHERE json_extract(metadata, '$.type') = ?", (doc_type,)
            ).fetchall()
        return [(i, json.loads(m)) for i, m in rows]

    def delete_chunks(self, ids: Iterable[str]) -> None:
        with self.connect() as con:
            for batch in batches(sorted(ids)):
                con.execute(f"DELETE FROM chunks WHERE id IN ({','.join('?' * len(batch))})", batch)

    # -- events -------------------------------------------------------------------------------------
    def add_event(self, kind: str, message: str) -> None:
        with self.connect() as con:
            con.execute("INSERT INTO events (at, kind, message) VALUES (?, ?, ?)", (utc_now(), kind, message))

    def events(self, limit: int = 20) -> list[StoreEvent]:
        """Newest first."""
        if not self.path.exists():
            return []
        with self.connect() as con:
            rows = con.execute("SELECT at, kind, message FROM events ORDER BY id DESC LIMIT ?", (limit,))
            return [StoreEvent(*r) for r in rows]
