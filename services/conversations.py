"""Conversations of the REST API: unguessable ids, each bound to the channel (API key or web origin) that opened it.

A client can only continue its own conversations and rate its own answers; an id from another channel is answered
exactly like an id that never existed, so ids cannot be probed. Conversations idle for longer than the TTL are
forgotten (the assistant's memory for them too, through `forget`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Conversation:
    channel: str
    seen: float
    interactions: set[int] = field(default_factory=set)


class ConversationRegistry:
    def __init__(
        self,
        ttl_seconds: float = 3600.0,
        max_conversations: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
        forget: Callable[[str], None] = lambda _id: None,
    ) -> None:
        self.ttl = ttl_seconds
        self.max = max_conversations
        self.clock = clock
        self.forget = forget
        self._items: OrderedDict[str, _Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def _evict(self, now: float) -> None:
        while self._items:
            oldest_id, oldest = next(iter(self._items.items()))
            if now - oldest.seen <= self.ttl and len(self._items) <= self.max:
                break
            del self._items[oldest_id]
            self.forget(oldest_id)

    def open(self, channel: str) -> str:
        """A new conversation id for `channel` (192 random bits)."""
        conversation_id = "c_" + secrets.token_urlsafe(24)
        with self._lock:
            now = self.clock()
            self._items[conversation_id] = _Conversation(channel, now)
            self._evict(now)
        return conversation_id

    def resume(self, conversation_id: str, channel: str) -> bool:
        """True when the conversation exists, is alive and belongs to `channel` (then it counts as active)."""
        with self._lock:
            now = self.clock()
            self._evict(now)
            item = self._items.get(conversation_id)
            if item is None or not secrets.compare_digest(item.channel, channel):
                return False
            item.seen = now
            self._items.move_to_end(conversation_id)
            return True

    def add_interaction(self, conversation_id: str, interaction_id: int) -> None:
        with self._lock:
            item = self._items.get(conversation_id)
            if item is not None:
                item.interactions.add(interaction_id)

    def owns(self, conversation_id: str, channel: str, interaction_id: int) -> bool:
        with self._lock:
            item = self._items.get(conversation_id)
            return item is not None and item.channel == channel and interaction_id in item.interactions
