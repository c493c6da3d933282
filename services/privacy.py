"""Customers' personal data across every store of the product: erasure on request and retention.

What the product stores about a customer, and where:
- the conversation log (`feedback_db`): masked questions and answers, ratings, and the keyed hashes that link a
  conversation to the e-mail addresses and phone numbers written in it (services/conversation_log.py);
- hand-off tickets (`tickets_db`): the customer's e-mail (to reply), the masked transcript and request;
- order lookups: nothing of their own; the log keeps a placeholder row in the conversation, failure counters live
  in the state backend for `order_failure_window_minutes`;
- conversation state (services/state.py: this process's memory, or Redis with several workers): chat history,
  product filters, order slots, hand-off state, for `api_conversation_minutes` after the last message
  (`Assistant.forget` drops it at once).
Fine-tuning files are built from the log when they are prepared: one prepared before an erasure must be prepared
again (`python -m finetune.prepare`), and analytics and exports read the log as it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from base.pii import Masker, forget_cache, normalise_email, phone_forms
from base.settings import Settings
from services.conversation_log import ConversationLog, now_utc
from services.handoff import TicketStore

EXPIRY_EVERY = timedelta(hours=1)
logger = logging.getLogger(__name__)


@dataclass
class ErasureReport:
    """What an erasure removed (counts), for the person who asked and for the records."""

    identifiers: list[str]
    conversations: int = 0
    interactions: int = 0
    ratings: int = 0
    links: int = 0
    tickets: int = 0
    sessions: set[str] = field(default_factory=set, repr=False)

    def lines(self) -> list[str]:
        return [
            f"conversations: {self.conversations}",
            f"log rows (questions and answers): {self.interactions}",
            f"ratings: {self.ratings}",
            f"links to the customer: {self.links}",
            f"tickets: {self.tickets}",
        ]


@dataclass
class RetentionReport:
    cutoff: datetime
    interactions: int = 0
    ratings: int = 0
    links: int = 0
    tickets: int = 0


class PrivacyDesk:
    """Erasure and retention over the conversation log and the tickets of one store."""

    def __init__(
        self,
        log: ConversationLog,
        tickets: TicketStore,
        masker: Masker,
        retention_days: int | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.log = log
        self.tickets = tickets
        self.masker = masker
        self.retention_days = retention_days
        self.clock = clock
        self._last_expiry: datetime | None = None
        self._tick_lock = threading.Lock()
        self.worker: threading.Thread | None = None  # the last retention run (tests join it)

    @classmethod
    def of(cls, settings: Settings, clock: Callable[[], datetime] = now_utc) -> PrivacyDesk:
        masker = Masker.of(settings)
        return cls(
            ConversationLog(settings.feedback_db, masker, clock),
            TicketStore(settings.tickets_db, clock),
            masker,
            settings.log_retention_days,
            clock,
        )

    def forget(
        self, email: str | None = None, phone: str | None = None, sessions: set[str] | None = None
    ) -> ErasureReport:
        """Remove every stored trace of the customer with this e-mail address and/or phone number (or of these
        conversations, for logs written before conversations were linked to customers): the log rows of their
        conversations (questions, answers, ratings, links) and their tickets."""
        if not (email or phone or sessions):
            raise ValueError("give the customer's e-mail address, phone number or conversation ids")
        identifiers = []
        if email:
            identifiers.append(normalise_email(email))
        if phone:
            identifiers += sorted(phone_forms(phone, self.masker.region, self.masker.countries))
        sessions = set(sessions or ()) | (self.log.conversations_of(identifiers) if identifiers else set())
        tickets, ticket_sessions = self.tickets.delete_for(normalise_email(email) if email else None, sessions)
        sessions |= ticket_sessions
        gone = self.log.delete_conversations(sessions)
        forget_cache()
        return ErasureReport(identifiers, len(sessions), tickets=tickets, sessions=sessions, **gone)

    def expire(self) -> RetentionReport | None:
        """Delete what is older than the retention period; None when no period is set."""
        if not self.retention_days:
            return None
        now = self.clock()
        self._last_expiry = now
        cutoff = now - timedelta(days=self.retention_days)
        gone = self.log.expire(cutoff)
        return RetentionReport(cutoff, tickets=self.tickets.expire(cutoff), **gone)

    def tick(self, wait: bool = False) -> threading.Thread | None:
        """`expire`, at most once per hour, in a background thread (the assistant calls this after each logged
        answer: deleting and vacuuming must not hold up the answer); `wait`: join it (tests)."""
        if not self.retention_days:
            return None
        with self._tick_lock:
            if self._last_expiry is not None and self.clock() - self._last_expiry < EXPIRY_EVERY:
                return None
            self._last_expiry = self.clock()
        worker = self.worker = threading.Thread(target=self._expire_quietly, name="retention", daemon=True)
        worker.start()
        if wait:
            worker.join()
        return worker

    def _expire_quietly(self) -> None:
        try:
            self.expire()
        except Exception:
            logger.exception("retention: could not delete old conversations")
