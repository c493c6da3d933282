"""Hand-off to people: when a customer asks for a person, or the assistant declined twice in a row, it offers to pass
the conversation on; the customer leaves an email address and a ticket is created with the transcript (masked as
the log is). Staff answer and close tickets on the admin *Inbox* page; an answer can become an FAQ entry.

The customer's email is kept in the ticket's own `email` field (staff need it to reply) and nowhere else: in the
transcript it is masked like every other email, phone, card or account number.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from base.pii import EMAIL, mask_pii
from chains.memory import Turn

WANTS_PERSON = re.compile(
    r"\b(talk|speak|chat)\s+(to|with)\s+(a|an|some)?\s*(human|person|agent|representative|someone|real person)|"
    r"\b(human|live) (agent|person|support)\b|\b(customer service|support) (agent|representative)\b|"
    r"\bhablar con (una persona|alguien|un agente|un humano)|\b(agente|persona) (real|humano)",
    re.IGNORECASE,
)
NO = re.compile(r"^\s*(no|nope|no thanks|no gracias|not now|ahora no)\b", re.IGNORECASE)

TEXT = {
    "en": {
        "offer": "Would you like a person from our team to follow up? Reply with your email address and I'll pass this "
        "conversation on to them.",
        "created": "Thanks. I've passed this conversation to our team (ticket #{id}); they'll reply to the email "
        "address you gave, usually within one business day.",
        "declined": "No problem. Ask me anything else.",
        "already": "I've already passed this conversation to our team; they'll reply by email.",
    },
    "es": {
        "offer": "¿Quieres que una persona de nuestro equipo te responda? Envíame tu correo y les paso esta "
        "conversación.",
        "created": "Gracias. He pasado esta conversación a nuestro equipo (ticket #{id}); te responderán al correo que "
        "indicaste, normalmente en un día hábil.",
        "declined": "De acuerdo. Pregúntame lo que quieras.",
        "already": "Ya pasé esta conversación a nuestro equipo; te responderán por correo.",
    },
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    email TEXT NOT NULL,
    reason TEXT NOT NULL,
    transcript TEXT NOT NULL,
    answer TEXT,
    answered_at TEXT
);
"""


@dataclass
class Ticket:
    id: int
    created_at: str
    status: str  # open | answered | closed
    email: str
    reason: str  # asked for a person | declined twice
    transcript: list[dict]  # [{"role": "customer" | "assistant", "text": ...}], masked
    answer: str | None
    answered_at: str | None

    @property
    def first_question(self) -> str:
        return next((t["text"] for t in self.transcript if t["role"] == "customer"), "")


class TicketStore:
    """Tickets in SQLite (the Inbox page reads and writes them)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _con(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.executescript(_SCHEMA)
        con.row_factory = sqlite3.Row
        return con

    def create(self, email: str, reason: str, transcript: list[dict]) -> int:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._con() as con:
            cur = con.execute(
                "INSERT INTO tickets (created_at, status, email, reason, transcript) VALUES (?, 'open', ?, ?, ?)",
                (now, email, reason, json.dumps(transcript, ensure_ascii=False)),
            )
            return int(cur.lastrowid)

    def list(self, status: str | None = None) -> list[Ticket]:
        if not self.path.exists():
            return []
        with self._con() as con:
            query, args = "SELECT * FROM tickets ORDER BY id DESC", ()
            if status:
                query, args = "SELECT * FROM tickets WHERE status = ? ORDER BY id DESC", (status,)
            return [_ticket(r) for r in con.execute(query, args)]

    def get(self, ticket_id: int) -> Ticket | None:
        with self._con() as con:
            row = con.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return _ticket(row) if row else None

    def answer(self, ticket_id: int, text: str) -> None:
        """Record staff's answer (sending it by email is up to staff: no mail server is configured here)."""
        if not text.strip():
            raise ValueError("the answer is empty")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._con() as con:
            con.execute(
                "UPDATE tickets SET answer = ?, answered_at = ?, status = 'answered' WHERE id = ?",
                (text.strip(), now, ticket_id),
            )

    def close(self, ticket_id: int) -> None:
        with self._lock, self._con() as con:
            con.execute("UPDATE tickets SET status = 'closed' WHERE id = ?", (ticket_id,))


def _ticket(row: sqlite3.Row) -> Ticket:
    return Ticket(
        row["id"],
        row["created_at"],
        row["status"],
        row["email"],
        row["reason"],
        json.loads(row["transcript"]),
        row["answer"],
        row["answered_at"],
    )


MAX_TICKETS_PER_CONVERSATION = 2


@dataclass
class _State:
    declines: int = 0  # in a row
    offered: str = ""  # the reason of a pending offer, "" when none
    tickets: int = 0  # made from this conversation (a cap keeps one chat from flooding the Inbox)


class HandoffDesk:
    """Decides when to offer a person, and turns the customer's email into a ticket."""

    def __init__(self, tickets: TicketStore, region: str = "US", keep: Sequence[str] = ()) -> None:
        self.tickets = tickets
        self.region = region
        self.keep = tuple(keep)
        self._state: dict[str, _State] = {}
        self._lock = threading.Lock()

    def _get(self, session: str) -> _State:
        if len(self._state) > 50_000:
            self._state.clear()  # offers are short-lived; forgetting them only costs a repeated offer
        return self._state.setdefault(session, _State())

    def reply(self, session: str, message: str, history: list[Turn], lang: str) -> str | None:
        """Handle a pending offer or a request for a person; None when the message is for the assistant."""
        with self._lock:
            state = self._get(session)
            email = EMAIL.search(message)
            if state.tickets >= MAX_TICKETS_PER_CONVERSATION:
                state.offered = ""
                return TEXT.get(lang, TEXT["en"])["already"] if WANTS_PERSON.search(message) else None
            if state.offered and email:
                reason, state.offered, state.declines = state.offered, "", 0
            elif state.offered and NO.search(message):
                state.offered = ""
                return TEXT.get(lang, TEXT["en"])["declined"]
            elif WANTS_PERSON.search(message) and email:
                reason = "asked for a person"
            elif WANTS_PERSON.search(message):
                state.offered = "asked for a person"
                return TEXT.get(lang, TEXT["en"])["offer"]
            elif state.offered:
                state.offered = ""  # they moved on: answer the question instead
                return None
            else:
                return None
        return self._ticket(state, message, history, lang, email.group(0), reason)

    def _ticket(self, state: _State, message: str, history: list[Turn], lang: str, email: str, reason: str) -> str:
        state.offered = ""
        state.tickets += 1
        transcript = []
        for turn in history:
            transcript.append({"role": "customer", "text": mask_pii(turn.question, self.region, self.keep)})
            transcript.append({"role": "assistant", "text": mask_pii(turn.answer, self.region, self.keep)})
        transcript.append({"role": "customer", "text": mask_pii(message, self.region, self.keep)})
        ticket_id = self.tickets.create(email, reason, transcript)
        return TEXT.get(lang, TEXT["en"])["created"].format(id=ticket_id)

    def after_answer(self, session: str, declined: bool, lang: str) -> str | None:
        """Count declines in a row; the offer to add after the second one (once, until answered)."""
        with self._lock:
            state = self._get(session)
            state.declines = state.declines + 1 if declined else 0
            if state.declines >= 2 and not state.offered and state.tickets < MAX_TICKETS_PER_CONVERSATION:
                state.offered = "declined twice"
                return TEXT.get(lang, TEXT["en"])["offer"]
        return None
