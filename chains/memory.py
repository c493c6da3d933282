"""Per-conversation memory: every session id gets its own bounded history (never shared between users)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class Turn:
    """One exchange; `entity` is the product (or FAQ title) the answer was about, for follow-ups."""

    question: str
    answer: str
    entity: str = ""


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)


class SessionMemory:
    """Conversations keyed by session id: at most `max_turns` each (oldest trimmed), at most
    `max_sessions` kept (least recently used evicted), thread-safe for a multi-user server."""

    def __init__(self, max_turns: int = 8, max_sessions: int = 10_000) -> None:
        self.max_turns = max_turns
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, session_id: str) -> list[Turn]:
        """A copy of the session's turns, oldest first."""
        with self._lock:
            conv = self._sessions.get(session_id)
            return list(conv.turns) if conv else []

    def add(self, session_id: str, turn: Turn) -> None:
        with self._lock:
            conv = self._sessions.pop(session_id, None) or Conversation()
            conv.turns.append(turn)
            del conv.turns[: -self.max_turns]
            self._sessions[session_id] = conv
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)

    def clear(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
