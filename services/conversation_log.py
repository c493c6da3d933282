"""Conversation log and thumbs up/down in SQLite (the fine-tuning and analytics issues read it).

Emails, phone numbers, card numbers, IBANs and SSNs are masked before anything is written (base/pii.py): the
log is shown to staff and exported for training, so it must not hold customers' contact or payment details.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from base.pii import mask_pii
from base.types import Hit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS interactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    session_id TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    model TEXT NOT NULL,
    declined INTEGER NOT NULL,
    rating INTEGER
);
"""


class ConversationLog:
    """Append-only interaction log with an optional rating per answer (1 = thumbs up, 0 = down)."""

    def __init__(self, path: str | Path, phone_region: str = "US", keep: Sequence[str] = ()) -> None:
        """`keep`: the store's own published contact details, left unmasked (base.pii.mask_pii)."""
        self.path = Path(path)
        self.phone_region = phone_region
        self.keep = tuple(keep)
        self._lock = threading.Lock()

    def _con(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.executescript(_SCHEMA)
        columns = {row[1] for row in con.execute("PRAGMA table_info(interactions)")}
        if "standalone" not in columns:  # logs written before it existed gain the column (NULL for old rows)
            con.execute("ALTER TABLE interactions ADD COLUMN standalone TEXT")
        return con

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
        with self._lock, self._con() as con:
            cur = con.execute(
                "INSERT INTO interactions (created_at, session_id, question, answer, sources, model, declined, "
                "standalone) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    session_id,
                    mask_pii(question, self.phone_region, self.keep),
                    mask_pii(answer, self.phone_region, self.keep),
                    json.dumps(slim),
                    model,
                    int(declined),
                    mask_pii(standalone, self.phone_region, self.keep) if standalone else None,
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
