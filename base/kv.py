"""Shared short-lived state: conversation state and limit counters, in this process (the default) or in Redis
(`ASSISTANT_REDIS_URL`), so several API workers behind a non-sticky balancer see one conversation and enforce
one limit.

The interface is deliberately small: JSON values under string keys, each with an idle expiry, and one atomic
read-modify-write (`update`) that everything else is built on. Values are plain JSON (no pickles): what Redis
holds can be read by staff and cannot execute code.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

R = TypeVar("R")
# fn(old value or None) -> (new value or None to delete, what update returns)
Change = Callable[[Any], tuple[Any, R]]


class KeyValue(Protocol):
    """What the state and limit code needs from a backend; `clock` is the time the values' timestamps use."""

    clock: Callable[[], float]

    def get(self, key: str) -> Any | None: ...

    def update(self, key: str, fn: Change[R], ttl: float) -> R:
        """Atomically apply `fn` to the key's value; the new value lives `ttl` seconds from now (None deletes).
        `fn` may run more than once (Redis retries on a concurrent write): keep it free of side effects."""
        ...

    def delete(self, *keys: str) -> None: ...


class MemoryKV:
    """In this process: a lock, a dict, an expiry per key, and at most `max_keys` keys (least recently written
    dropped first), so a flood of new conversations cannot grow memory without bound."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()  # key -> (expires at, JSON)
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self._items[key]
            return None
        return item[1]

    def get(self, key: str) -> Any | None:
        with self._lock:
            raw = self._live(key, self.clock())
        return None if raw is None else json.loads(raw)

    def update(self, key: str, fn: Change[R], ttl: float) -> R:
        with self._lock:
            now = self.clock()
            raw = self._live(key, now)
            new, out = fn(None if raw is None else json.loads(raw))
            self._items.pop(key, None)
            if new is not None:
                self._items[key] = (now + ttl, json.dumps(new, separators=(",", ":")))
                self._evict(now)
            return out

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._items.pop(key, None)

    def _evict(self, now: float) -> None:
        while len(self._items) > self.max_keys:
            self._items.popitem(last=False)
        for key in list(self._items)[:2]:  # sweep a little on every write: expired keys do not linger
            self._live(key, now)


class RedisKV:
    """The same contract on a Redis server: optimistic transactions (WATCH/MULTI) for `update`, a key prefix so
    one Redis can serve several shops, and the expiry as Redis's own (PX)."""

    def __init__(self, url: str, prefix: str = "assistant:", clock: Callable[[], float] = time.time) -> None:
        import redis

        self.clock = clock
        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._watch_error = redis.WatchError

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    def update(self, key: str, fn: Change[R], ttl: float) -> R:
        name = self.prefix + key
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    raw = pipe.get(name)
                    new, out = fn(None if raw is None else json.loads(raw))
                    pipe.multi()
                    if new is None:
                        pipe.delete(name)
                    else:
                        pipe.set(name, json.dumps(new, separators=(",", ":")), px=max(1, int(ttl * 1000)))
                    pipe.execute()
                    return out
                except self._watch_error:  # another worker wrote the key in between: read it again
                    continue

    def delete(self, *keys: str) -> None:
        if keys:
            self._redis.delete(*(self.prefix + k for k in keys))

    def ping(self) -> bool:
        return bool(self._redis.ping())


def open_kv(redis_url: str | None, max_keys: int = 100_000) -> KeyValue:
    """Redis when a URL is set (several workers share it), else this process's memory."""
    return RedisKV(redis_url) if redis_url else MemoryKV(max_keys)
