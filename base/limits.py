"""The one sliding-window limit (API calls per minute, failed order checks per 15 minutes), kept in the shared
key-value backend (base/kv.py), so N workers enforce one limit instead of N. The staff sign-in lockout is built on
the same backend (services/auth.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from base.kv import KeyValue, MemoryKV


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds (events are timestamps in the backend)."""

    def __init__(
        self,
        limit: int,
        window: float,
        kv: KeyValue | None = None,
        name: str = "window",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.limit = limit
        self.window = window
        self.kv = kv if kv is not None else MemoryKV(clock=clock or time.time)
        self.clock = clock or self.kv.clock
        self.name = name

    def _key(self, key: str) -> str:
        return f"{self.name}:{key}"

    def _recent(self, times: list[float] | None, now: float) -> list[float]:
        return [t for t in times or [] if now - t < self.window]

    def take(self, key: str) -> int:
        """Count one event when there is room and return 0; else the whole seconds until there is (not counted)."""
        now = self.clock()

        def change(times):
            recent = self._recent(times, now)
            if len(recent) >= self.limit:
                return recent, max(1, int(self.window - (now - recent[0])) + 1)
            return [*recent, now], 0

        return self.kv.update(self._key(key), change, self.window)

    def reserve(self, *keys: str) -> bool:
        """Count one event on every key, or on none when any key is full (False): checked and counted per key in
        one atomic step, so parallel callers cannot all slip under the limit."""
        taken: list[str] = []
        for key in keys:
            if self.take(key):
                self.refund(*taken)
                return False
            taken.append(key)
        return True

    def blocked(self, *keys: str) -> bool:
        """True when any key has used up its events."""
        now = self.clock()
        return any(len(self._recent(self.kv.get(self._key(k)), now)) >= self.limit for k in keys)

    def add(self, *keys: str) -> None:
        """Count one event on each key (even past the limit)."""
        now = self.clock()
        for key in keys:
            self.kv.update(self._key(key), lambda times: ([*self._recent(times, now), now], None), self.window)

    def refund(self, *keys: str) -> None:
        """Take back the latest event of each key (one reserved for a check that then succeeded)."""
        now = self.clock()
        for key in keys:
            self.kv.update(self._key(key), lambda times: (self._recent(times, now)[:-1] or None, None), self.window)
