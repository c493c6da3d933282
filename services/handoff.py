"""Hand-off to people: when a customer asks for a person, or the assistant declined twice in a row, it offers to pass
the conversation on; the customer leaves an email address and a ticket is created with the whole conversation
(masked as the log is) and the customer's actual request. Staff answer and close tickets on the admin *Inbox* page.

An answer can become an FAQ entry only through `faq_draft`: the entry's question is the customer's request, never
the hand-off turn ('[email]'), the reply loses its greeting and sign-off, and a draft whose question is empty, only
placeholders or personal, or whose answer still names the customer, is refused. A reply written for one customer
can therefore never be shown to another (the Inbox leak of issue 25).

The customer's email is kept in the ticket's own `email` field (staff need it to reply) and nowhere else: in the
transcript it is masked like every other piece of personal data.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from base.db import Migration, add_column
from base.pii import EMAIL, PLACEHOLDER, Masker
from chains.memory import Turn
from services.conversation_log import connect, now_utc, vacuum
from services.state import ConversationState, ConversationStore

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

MIGRATIONS: list[Migration] = [  # numbered: append, never edit (base/db.py)
    """CREATE TABLE IF NOT EXISTS tickets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL,
        email TEXT NOT NULL,
        reason TEXT NOT NULL,
        transcript TEXT NOT NULL,
        answer TEXT,
        answered_at TEXT
    )""",
    add_column("tickets", "session_id", "TEXT NOT NULL DEFAULT ''"),
    add_column("tickets", "request", "TEXT NOT NULL DEFAULT ''"),
]


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
    session_id: str = ""
    request: str = ""  # the customer's question, masked ('' when they only asked for a person)


class TicketStore:
    """Tickets in SQLite (the Inbox page reads and writes them)."""

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = now_utc) -> None:
        """`clock`: now, for tests of retention."""
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.Lock()

    def _con(self) -> sqlite3.Connection:
        con = connect(self.path, MIGRATIONS)
        con.row_factory = sqlite3.Row
        return con

    def create(self, email: str, reason: str, transcript: list[dict], session_id: str = "", request: str = "") -> int:
        """A new open ticket; `transcript` and `request` must already be masked."""
        now = self.clock().isoformat(timespec="seconds")
        with self._lock, self._con() as con:
            cur = con.execute(
                "INSERT INTO tickets (created_at, status, email, reason, transcript, session_id, request) "
                "VALUES (?, 'open', ?, ?, ?, ?, ?)",
                (now, email, reason, json.dumps(transcript, ensure_ascii=False), session_id, request),
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
        now = self.clock().isoformat(timespec="seconds")
        with self._lock, self._con() as con:
            con.execute(
                "UPDATE tickets SET answer = ?, answered_at = ?, status = 'answered' WHERE id = ?",
                (text.strip(), now, ticket_id),
            )

    def close(self, ticket_id: int) -> None:
        with self._lock, self._con() as con:
            con.execute("UPDATE tickets SET status = 'closed' WHERE id = ?", (ticket_id,))

    def delete_for(self, email: str | None, sessions: set[str]) -> tuple[int, set[str]]:
        """Delete the tickets of a customer (their e-mail, or one of their conversations); returns how many and the
        conversations those tickets came from."""
        if not self.path.exists():
            return 0, set()
        with self._lock, self._con() as con:
            rows = con.execute("SELECT id, email, session_id FROM tickets").fetchall()
            wanted = (email or "").strip().lower()
            hit = [r for r in rows if (wanted and r["email"].strip().lower() == wanted) or r["session_id"] in sessions]
            con.executemany("DELETE FROM tickets WHERE id = ?", [(r["id"],) for r in hit])
        self.vacuum()
        return len(hit), {r["session_id"] for r in hit if r["session_id"]}

    def expire(self, before: datetime) -> int:
        """Delete answered and closed tickets last touched before `before` (open ones wait for staff)."""
        if not self.path.exists():
            return 0
        cutoff = before.isoformat(timespec="seconds")
        with self._lock, self._con() as con:
            gone = con.execute(
                "DELETE FROM tickets WHERE status != 'open' AND COALESCE(answered_at, created_at) < ?", (cutoff,)
            ).rowcount
        if gone:
            self.vacuum()
        return gone

    def remask(self, masker: Masker) -> int:
        """Mask every ticket's transcript and request again with the current rule; returns how many changed."""
        changed = 0
        for ticket in self.list():
            transcript = [{**t, "text": masker.mask(t.get("text", ""))} for t in ticket.transcript]
            request = masker.mask(ticket.request)
            if transcript != ticket.transcript or request != ticket.request:
                with self._lock, self._con() as con:
                    con.execute(
                        "UPDATE tickets SET transcript = ?, request = ? WHERE id = ?",
                        (json.dumps(transcript, ensure_ascii=False), request, ticket.id),
                    )
                changed += 1
        if changed:
            self.vacuum()
        return changed

    def vacuum(self) -> None:
        vacuum(self.path, self._lock)


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
        row["session_id"],
        row["request"],
    )


MAX_TICKETS_PER_CONVERSATION = 2


class HandoffDesk:
    """Decides when to offer a person, and turns the customer's email into a ticket. The offer, the declines in a
    row and the tickets made live in the conversation's state (services/state.py), decided in one atomic update
    each: two messages at once cannot both pass the ticket cap."""

    def __init__(
        self, tickets: TicketStore, masker: Masker | None = None, conversations: ConversationStore | None = None
    ) -> None:
        self.tickets = tickets
        self.masker = masker or Masker()
        self.conversations = conversations or ConversationStore()

    def reply(
        self,
        session: str,
        message: str,
        history: list[Turn],
        lang: str,
        earlier: Callable[[], list[dict]] | None = None,
    ) -> str | None:
        """Handle a pending offer or a request for a person; None when the message is for the assistant.
        `earlier`: the conversation so far as masked {"role", "text"} turns (the log's rows); default: `history`."""
        email = EMAIL.search(message)
        wants = bool(WANTS_PERSON.search(message))
        asked = request_in(self.masker.mask(message)) if wants and not email else ""  # masked outside the update

        def decide(state: ConversationState) -> tuple[str, str] | str | None:
            """(reason, pending request) for a ticket, a reply's key in TEXT, or None."""
            hs = state.handoff
            if hs.tickets >= MAX_TICKETS_PER_CONVERSATION:
                hs.offered = ""
                return "already" if wants else None
            if hs.offered and email:
                reason, hs.offered, hs.declines = hs.offered, "", 0
            elif hs.offered and NO.search(message):
                hs.offered = ""
                return "declined"
            elif wants and email:
                reason = "asked for a person"
            elif wants:
                hs.offered = "asked for a person"
                hs.request = asked or hs.request
                return "offer"
            elif hs.offered:
                hs.offered = ""  # they moved on: answer the question instead
                return None
            else:
                return None
            hs.tickets += 1
            request, hs.request = hs.request, ""
            return reason, request

        decision = self.conversations.change(session, decide)
        if decision is None or isinstance(decision, str):
            return None if decision is None else TEXT.get(lang, TEXT["en"])[decision]
        reason, request = decision
        return self._ticket(session, request, message, history, lang, email.group(0), reason, earlier)

    def _ticket(
        self,
        session: str,
        pending_request: str,
        message: str,
        history: list[Turn],
        lang: str,
        email: str,
        reason: str,
        earlier: Callable[[], list[dict]] | None,
    ) -> str:
        if earlier is not None:
            transcript = [dict(t) for t in earlier()]
        else:
            transcript = []
            for turn in history:
                transcript.append({"role": "customer", "text": self.masker.mask(turn.question)})
                transcript.append({"role": "assistant", "text": self.masker.mask(turn.answer)})
        masked = self.masker.mask(message)
        transcript.append({"role": "customer", "text": masked})
        request = request_in(masked) or pending_request or _last_request(transcript)
        ticket_id = self.tickets.create(email, reason, transcript, session, request)
        return TEXT.get(lang, TEXT["en"])["created"].format(id=ticket_id)

    def after_answer(self, session: str, declined: bool, lang: str, question: str = "") -> str | None:
        """Count declines in a row; the offer to add after the second one (once, until answered). `question`: the
        customer's message just answered (a declined one becomes the ticket's request)."""
        asked = request_in(self.masker.mask(question)) if declined and question else ""

        def count(state: ConversationState) -> bool:
            hs = state.handoff
            hs.declines = hs.declines + 1 if declined else 0
            hs.request = asked or hs.request
            if hs.declines >= 2 and not hs.offered and hs.tickets < MAX_TICKETS_PER_CONVERSATION:
                hs.offered = "declined twice"
                return True
            return False

        return TEXT.get(lang, TEXT["en"])["offer"] if self.conversations.change(session, count) else None


# -- the customer's request, and FAQ entries from staff replies ----------------------------------------------------
_GREETING = re.compile(
    r"^\s*(?i:hi|hello|hey|hiya|dear|good\s+(?:morning|afternoon|evening)|hola|buenas|buenos\s+d[ií]as|"
    r"buenas\s+(?:tardes|noches)|estimad[oa]s?|querid[oa]s?)\b"
    r"(?:[^,!:;\n]{0,60}?[,!:;\n]"  # 'Dear Dr. Anne-Marie de la Cruz,': up to the comma
    r"|(?:\s+(?i:there|all|team|everyone|again)|\s+\[name\]|\s+[A-ZÁÉÍÓÚÑ][\w'’.-]*){0,3}(?=\s|$))",
)
_SIGN_OFF = re.compile(
    r"(?:^|\n|(?<=[.!?])\s+)\s*(?:best(?:\s+(?:regards|wishes))?|kind\s+regards|regards|warm\s+regards|cheers|thanks|"
    r"thank\s+you|many\s+thanks|sincerely|yours(?:\s+truly)?|talk\s+soon|take\s+care|saludos(?:\s+cordiales)?|"
    r"un\s+saludo|atentamente|gracias|cordialmente|abrazos?)\b[^\n]{0,60}(?:\n[^\n]{0,60})?\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"\n\s*[-–—]+\s*[^\n]{0,60}\s*$")


_INTRO = re.compile(
    r"(?:(?:my\s+(?:e-?mail|name|number|phone|cell)(?:\s+(?:address|number))?\s+is|i'?m|i\s+am|this\s+is|it'?s|"
    r"here'?s\s+my\s+e-?mail|soy|me\s+llamo|mi\s+(?:correo|nombre|n[uú]mero|tel[eé]fono)(?:\s+es)?|"
    r"escr[ií]beme\s+a|write\s+to|reach\s+me\s+at|contact\s+me\s+at|email\s+me\s+at)\s*:?\s*)?"
    r"\[(?:name|email|phone)\](?:\s+(?:here|aqu[ií]))?\s*[,.!;]?",
    re.IGNORECASE,
)


def request_in(masked: str, drop_contacts: bool = False) -> str:
    """What a (masked) customer message asks, once the request for a person and greetings are taken out; '' when
    fewer than three words are left besides the customer's own name and contacts ('[email]', 'can I talk to a
    human?', 'hi, I'm [name]'). `drop_contacts`: take '[name]', '[email]', '[phone]' and their lead-in ('my email
    is') out too (an FAQ question); other placeholders stay: '[address]' left in makes the request personal."""
    kept = []
    for sentence in re.split(r"(?<=[.?!\n])\s+|\s*[¿¡]", masked):
        cut = WANTS_PERSON.sub(" ", sentence)
        while (m := _GREETING.match(cut)) and m.end() > 0:
            cut = cut[m.end() :]
        bare = re.sub(r"\s+", " ", _INTRO.sub(" ", cut)).strip(" ,;:-")
        cut = bare if drop_contacts else re.sub(r"\s+", " ", cut).strip(" ,;:-")
        if _words(bare) >= 3 or (cut and cut == sentence.strip() and _words(bare) > 0):
            kept.append(cut)
    text = " ".join(k for k in kept if k).strip(" ,.;:!-")
    return text if _words(_INTRO.sub(" ", text)) >= 3 else ""


def _words(text: str) -> int:
    return len(re.findall(r"[^\W\d_]{2,}", PLACEHOLDER.sub(" ", text)))


def _last_request(transcript: list[dict]) -> str:
    for turn in reversed(transcript):
        if turn.get("role") == "customer":
            found = request_in(turn.get("text", ""))
            if found:
                return found
    return ""


@dataclass
class FaqDraft:
    """What *Save as FAQ entry* would publish, and why it may not ('' problems: it may)."""

    question: str
    answer: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def reply_without_greeting(reply: str) -> str:
    """A staff reply without its salutation ('Hi Jane,') and sign-off ('Best, Tom'): what is left is the answer."""
    text = reply.strip()
    for _ in range(3):
        m = _GREETING.match(text)
        if not m or m.end() == 0:
            break
        text = text[m.end() :].lstrip()
    text = _SIGNATURE.sub("", text)
    text = _SIGN_OFF.sub("", text).strip()
    return text[:1].upper() + text[1:] if text else text


def faq_problems(question: str, answer: str, masker: Masker) -> list[str]:
    """Why an FAQ entry may not be published as written ([] when it may): a question that asks nothing (only a
    request for a person or the customer's contact details), an empty answer, personal data or placeholders in
    either text. The Inbox checks exactly what staff see in its preview."""
    problems = []
    if not request_in(question, drop_contacts=True):
        problems.append(
            "there is no question to answer (only a request for a person, the customer's details or placeholders)"
        )
    if not answer.strip():
        problems.append("the answer is empty (a reply is empty once its greeting and sign-off are taken out)")
    personal = {f.placeholder for text in (question, answer) for f in masker.findings(text)}
    personal |= set(PLACEHOLDER.findall(question)) | set(PLACEHOLDER.findall(answer))
    if personal:
        problems.append(
            f"it holds personal data ({', '.join(sorted(personal))}): an FAQ entry is shown to every customer"
        )
    return problems


def faq_draft(question: str, reply: str, masker: Masker) -> FaqDraft:
    """An FAQ entry from a ticket: the customer's request (without the hand-off turn and their contact details) and
    the staff reply without greeting or sign-off, with `faq_problems` of the result."""
    asked = request_in(question, drop_contacts=True)
    answer = reply_without_greeting(reply)
    return FaqDraft(asked, answer, faq_problems(asked, answer, masker))
