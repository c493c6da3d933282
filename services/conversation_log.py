"""Conversation log and thumbs up/down in SQLite (the fine-tuning and analytics read it).

Every text is masked before it is written (base/pii: names, addresses, e-mails, phones, cards, accounts, IDs): the
log is shown to staff (analytics, exports) and exported for training, so it must not hold customers' personal data.

To honour an erasure request without keeping the data itself, each conversation is linked to the customers who
wrote their e-mail address or phone number in it by a keyed hash (HMAC-SHA256 with a key kept beside the log,
`<log>.key`): `conversations_of` finds them again from the address, and nothing in the log reads back to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from base import db
from base.db import Migration, add_column
from base.pii import Masker
from base.types import Hit

MIGRATIONS: list[Migration] = [  # numbered: append, never edit (base/db.py)
    """CREATE TABLE IF NOT EXISTS interactions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        session_id TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        sources TEXT NOT NULL,
        model TEXT NOT NULL,
        declined INTEGER NOT NULL,
        rating INTEGER
    )""",
    add_column("interactions", "standalone", "TEXT"),  # the question as searched (NULL for older rows)
    """CREATE TABLE IF NOT EXISTS subjects (
        session_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (session_id, subject)
    )""",
    "CREATE INDEX IF NOT EXISTS subjects_by_subject ON subjects (subject)",
    "CREATE INDEX IF NOT EXISTS interactions_by_session ON interactions (session_id)",
]


_KEY_LOCK = threading.Lock()


def now_utc() -> datetime:
    return datetime.now(UTC)


def connect(path: Path, migrations: list[Migration] | None = None) -> sqlite3.Connection:
    """A connection that overwrites what it deletes (an erased customer's text must not linger in free pages), with
    the database's migrations applied."""
    return db.connect(path, migrations or [], secure_delete=True)


def vacuum(path: Path, lock: threading.Lock) -> None:
    """Rewrite the file so deleted rows leave no bytes behind (outside a transaction, under the writers' lock)."""
    with lock:
        con = connect(path)
        try:
            con.execute("VACUUM")
        finally:
            con.close()


class ConversationLog:
    """Append-only interaction log with an optional rating per answer (1 = thumbs up, 0 = down)."""

    def __init__(self, path: str | Path, masker: Masker | None = None, clock=now_utc) -> None:
        """`masker`: the store's masking rule (its region, countries and published contacts); default: US, every
        country, nothing kept. `clock`: now, for tests of retention."""
        self.path = Path(path)
        self.masker = masker or Masker()
        self.clock = clock
        self._lock = threading.Lock()
        self._key: bytes | None = None

    def _con(self) -> sqlite3.Connection:
        return connect(self.path, MIGRATIONS)

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def record(
        self,
        session_id: str,
        question: str,
        answer: str,
        sources: Sequence[Hit],
        model: str,
        declined: bool,
        standalone: str | None = None,
    ) -> int:
        """Store one answered question (masked); returns its id for the rating. `standalone` is the question as it
        was searched (a follow-up rewritten with the history), so fine-tuning data can retrieve the same passages."""
        slim = [{"source": s.source, "doc_id": s.doc_id} for s in sources]
        mask = self.masker.mask
        with self._lock, self._con() as con:
            cur = con.execute(
                "INSERT INTO interactions (created_at, session_id, question, answer, sources, model, declined, "
                "standalone) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self._now(),
                    session_id,
                    mask(question),
                    mask(answer),
                    json.dumps(slim),
                    model,
                    int(declined),
                    mask(standalone) if standalone else None,
                ),
            )
            return int(cur.lastrowid)

    def rate(self, interaction_id: int, rating: int | None) -> None:
        """Set (or clear) the thumbs rating of one answer."""
        with self._lock, self._con() as con:
            con.execute("UPDATE interactions SET rating=? WHERE id=?", (rating, interaction_id))

    def rows(self) -> list[dict]:
        """Every interaction, oldest first."""
        if not self.path.exists():
            return []
        with self._con() as con:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute("SELECT * FROM interactions ORDER BY id")]

    def session_rows(self, session_id: str) -> list[dict]:
        """The interactions of one conversation, oldest first (a hand-off ticket's transcript)."""
        if not self.path.exists():
            return []
        with self._con() as con:
            con.row_factory = sqlite3.Row
            query = "SELECT * FROM interactions WHERE session_id = ? ORDER BY id"
            return [dict(r) for r in con.execute(query, (session_id,))]

    # -- who a conversation belongs to, for erasure ----------------------------------------------------------------
    def subject(self, identifier: str) -> str:
        """The keyed hash of a customer's e-mail address or phone number (normalised: see `Masker.identifiers`)."""
        return hmac.new(self._secret(), identifier.encode("utf-8"), hashlib.sha256).hexdigest()

    def _secret(self) -> bytes:
        """The log's key, made once: written whole to a temporary file, then linked into place (an atomic step that
        fails when another thread or process won the race: then its key is read), so no reader sees half a key."""
        with _KEY_LOCK:
            if self._key is None:
                key_file = self.path.with_suffix(".key")
                if not key_file.exists():
                    key_file.parent.mkdir(parents=True, exist_ok=True)
                    temporary = key_file.with_name(f"{key_file.name}.{secrets.token_hex(8)}.tmp")
                    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as f:
                        f.write(secrets.token_hex(32))
                        f.flush()
                        os.fsync(f.fileno())
                    try:
                        os.link(temporary, key_file)
                    except FileExistsError:
                        pass
                    finally:
                        temporary.unlink()
                key = bytes.fromhex(key_file.read_text().strip())
                if len(key) != 32:
                    raise ValueError(f"{key_file}: not a 32-byte key; erasure links cannot be made without it")
                self._key = key
            return self._key

    def link(self, session_id: str, text: str) -> int:
        """Remember that the customers whose e-mail or phone appears in `text` wrote in this conversation."""
        identifiers = self.masker.identifiers(text)
        if not identifiers:
            return 0
        subjects = [self.subject(i) for i in identifiers]
        with self._lock, self._con() as con:
            con.executemany(
                "INSERT OR IGNORE INTO subjects (session_id, subject, created_at) VALUES (?, ?, ?)",
                [(session_id, s, self._now()) for s in subjects],
            )
        return len(subjects)

    def conversations_of(self, identifiers: Iterable[str]) -> set[str]:
        """The conversations linked to any of these (normalised) e-mail addresses or phone numbers."""
        if not self.path.exists():
            return set()
        subjects = [self.subject(i) for i in identifiers]
        with self._con() as con:
            marks = ",".join("?" * len(subjects))
            rows = con.execute(f"SELECT DISTINCT session_id FROM subjects WHERE subject IN ({marks})", subjects)
            return {r[0] for r in rows}

    def delete_conversations(self, sessions: Iterable[str]) -> dict[str, int]:
        """Delete every row of these conversations (questions, answers, ratings, links); counts per kind."""
        sessions = sorted(set(sessions))
        if not sessions or not self.path.exists():
            return {"interactions": 0, "ratings": 0, "links": 0}
        with self._lock, self._con() as con:
            marks = ",".join("?" * len(sessions))
            rated = con.execute(
                f"SELECT COUNT(*) FROM interactions WHERE rating IS NOT NULL AND session_id IN ({marks})", sessions
            ).fetchone()[0]
            gone = con.execute(f"DELETE FROM interactions WHERE session_id IN ({marks})", sessions).rowcount
            links = con.execute(f"DELETE FROM subjects WHERE session_id IN ({marks})", sessions).rowcount
        self.vacuum()
        return {"interactions": gone, "ratings": rated, "links": links}

    def expire(self, before: datetime) -> dict[str, int]:
        """Delete conversations whose last message is older than `before` (retention)."""
        if not self.path.exists():
            return {"interactions": 0, "ratings": 0, "links": 0}
        cutoff = before.isoformat(timespec="seconds")
        with self._con() as con:
            old = [
                r[0]
                for r in con.execute(
                    "SELECT session_id FROM interactions GROUP BY session_id HAVING MAX(created_at) < ?", (cutoff,)
                )
            ]
            with self._lock:
                con.execute(
                    "DELETE FROM subjects WHERE created_at < ? AND session_id NOT IN "
                    "(SELECT session_id FROM interactions)",
                    (cutoff,),
                )
        return self.delete_conversations(old)

    def remask(self, progress=None) -> int:
        """Mask every stored row again with the current rule (rows logged before names and addresses were masked);
        returns how many rows changed. `progress(done, total)` is called every 100 rows."""
        rows = self.rows()
        changed = 0
        for first in range(0, len(rows), 100):  # masked outside the lock, written 100 rows at a time
            batch = []
            for row in rows[first : first + 100]:
                new = [self.masker.mask(row[k]) if row[k] else row[k] for k in ("question", "answer", "standalone")]
                if new != [row["question"], row["answer"], row["standalone"]]:
                    batch.append((*new, row["id"]))
            if batch:
                with self._lock, self._con() as con:
                    con.executemany(
                        "UPDATE interactions SET question = ?, answer = ?, standalone = ? WHERE id = ?", batch
                    )
                changed += len(batch)
            if progress is not None:
                progress(min(first + 100, len(rows)), len(rows))
        if changed:
            self.vacuum()
        return changed

    def vacuum(self) -> None:
        vacuum(self.path, self._lock)
