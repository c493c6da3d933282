"""Everything the assistant keeps about one conversation, with one owner and one expiry rule.

A conversation's state (the last turns for follow-ups, the product filters of the last catalogue answer, the order
number or contact half given so far, the hand-off offer and its ticket count, and for the REST API the channel
that opened it and the answers it may rate) is one JSON record in the shared backend (base/kv.py): this process's
memory by default, Redis when several workers serve. A conversation idle for `ttl` seconds is forgotten whole.

The desks (orders, hand-off, product filters) are functions of (their part of the state, the message): the
assistant loads the state once per message, the desks change their parts, and `save_desks` writes those parts
back. Turns, ratings and desk parts are each written by an atomic update of only what they own, so two workers
answering in one conversation do not overwrite each other's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from base.kv import KeyValue, MemoryKV
from chains.memory import Turn
from chains.product_query import ProductQuery

R = TypeVar("R")
DESK_FIELDS = ("filters", "shown_prices", "order", "handoff")


@dataclass
class OrderSlots:
    """The halves of an order lookup given so far (cleared after every lookup)."""

    number: str | None = None
    contact: str | None = None
    asked: bool = False  # the last answer asked for order details: the next message may just hold them


@dataclass
class HandoffState:
    declines: int = 0  # in a row
    offered: str = ""  # the reason of a pending offer, "" when none
    tickets: int = 0  # made from this conversation (a cap keeps one chat from flooding the Inbox)
    request: str = ""  # what the customer wanted when the offer was made (masked)


@dataclass
class ConversationState:
    turns: list[Turn] = field(default_factory=list)
    filters: ProductQuery | None = None  # the last catalogue answer's filters, for "and cheaper?"
    shown_prices: list[float] = field(default_factory=list)
    order: OrderSlots = field(default_factory=OrderSlots)
    handoff: HandoffState = field(default_factory=HandoffState)
    channel: str = ""  # the API key or web origin that opened it ("" for the chat page)
    interactions: list[int] = field(default_factory=list)  # its answers' log rows (only these may be rated)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, data: dict | None) -> ConversationState:
        if not data:
            return cls()
        return cls(
            turns=[Turn(**t) for t in data.get("turns", [])],
            filters=ProductQuery(**data["filters"]) if data.get("filters") else None,
            shown_prices=list(data.get("shown_prices", [])),
            order=OrderSlots(**data.get("order", {})),
            handoff=HandoffState(**data.get("handoff", {})),
            channel=data.get("channel", ""),
            interactions=list(data.get("interactions", [])),
        )


class ConversationStore:
    """Conversation states in the backend `kv`, each kept `ttl` seconds after its last change, with at most
    `max_turns` turns (oldest trimmed)."""

    def __init__(self, kv: KeyValue | None = None, ttl: float = 3600.0, max_turns: int = 8) -> None:
        self.kv = kv if kv is not None else MemoryKV()
        self.ttl = ttl
        self.max_turns = max_turns

    @staticmethod
    def _key(conversation: str) -> str:
        return f"conversation:{conversation}"

    def load(self, conversation: str) -> ConversationState:
        """The conversation's state (a new one when it never existed or has expired)."""
        return ConversationState.of(self.kv.get(self._key(conversation)))

    def exists(self, conversation: str) -> bool:
        return self.kv.get(self._key(conversation)) is not None

    def change(self, conversation: str, fn: Callable[[ConversationState], R], create: bool = True) -> R | None:
        """Apply `fn` to the stored state atomically and keep it `ttl` more seconds; with `create` False, a
        conversation that does not exist stays absent and `fn` is not applied (None)."""

        def apply(data: Any) -> tuple[Any, R | None]:
            if data is None and not create:
                return None, None
            state = ConversationState.of(data)
            out = fn(state)
            del state.turns[: -self.max_turns]
            return state.to_json(), out

        return self.kv.update(self._key(conversation), apply, self.ttl)

    def history(self, conversation: str) -> list[Turn]:
        """Its turns, oldest first."""
        return self.load(conversation).turns

    def add_turn(self, conversation: str, turn: Turn) -> None:
        self.change(conversation, lambda state: state.turns.append(turn))

    def save_desks(self, conversation: str, state: ConversationState) -> None:
        """Write back what the desks changed in `state` (filters, order slots, hand-off), nothing else."""

        def put(stored: ConversationState) -> None:
            for name in DESK_FIELDS:
                setattr(stored, name, getattr(state, name))

        self.change(conversation, put)

    def clear(self, conversation: str) -> None:
        self.forget([conversation])

    def forget(self, conversations: Iterable[str]) -> None:
        """Drop these conversations' state whole (a new conversation, an erasure request)."""
        self.kv.delete(*(self._key(c) for c in conversations))
