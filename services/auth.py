"""Admin sign-in: a bcrypt hash from settings and a per-client limit on failed attempts.

The plain password never lives in settings, code or logs; only its bcrypt hash does. Failed attempts are
counted per client (IP address when Streamlit knows it) in the server process, so reloading the page or
opening a new session does not reset the count.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import bcrypt

MIN_PASSWORD_CHARS = 10
_MAX_BCRYPT_BYTES = 72  # bcrypt ignores (v4) or refuses (v5) anything longer


def hash_password(password: str) -> str:
    """A bcrypt hash (cost 12) to put in ASSISTANT_ADMIN_PASSWORD_HASH."""
    data = password.encode("utf-8")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"use at least {MIN_PASSWORD_CHARS} characters")
    if len(data) > _MAX_BCRYPT_BYTES:
        raise ValueError(f"use at most {_MAX_BCRYPT_BYTES} bytes (bcrypt's limit)")
    return bcrypt.hashpw(data, bcrypt.gensalt(rounds=12)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-time check against the configured hash; False for a missing or malformed hash."""
    if not password_hash or not password:
        return False
    data = password.encode("utf-8")
    if len(data) > _MAX_BCRYPT_BYTES:
        return False
    try:
        return bcrypt.checkpw(data, password_hash.encode("ascii"))
    except ValueError:  # not a bcrypt hash
        return False


_BCRYPT = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
MAX_TRACKED_CLIENTS = 10_000


def is_bcrypt_hash(value: str | None) -> bool:
    """True for a well-formed bcrypt hash (a mangled one, e.g. '$' eaten by a shell, must not lock staff out)."""
    return bool(value and _BCRYPT.match(value))


@dataclass
class _Client:
    failures: int = 0
    pending: int = 0
    lockouts: int = 0
    locked_until: float = 0.0


@dataclass(frozen=True)
class Attempt:
    """The result of one sign-in attempt. `outcome`: ok, wrong (checked and refused), locked (refused unchecked:
    locked out for `wait` seconds) or busy (refused unchecked: the client's other attempts still being checked
    could use up its tries). `left`: wrong passwords the client may still enter before a lockout."""

    outcome: str
    left: int
    wait: float = 0.0

    def __bool__(self) -> bool:
        return self.outcome == "ok"


class LoginLimiter:
    """After `max_failures` wrong passwords a client waits `lockout_seconds`, doubled on every repeat
    (capped at one hour); a correct password resets it. Thread-safe, one per server process."""

    def __init__(
        self, max_failures: int = 5, lockout_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self._clock = clock
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, client: str) -> float:
        """Seconds until `client` may try again (0 = now)."""
        with self._lock:
            state = self._clients.get(client)
            return max(0.0, state.locked_until - self._clock()) if state else 0.0

    def attempt(self, client: str, password: str, password_hash: str | None) -> Attempt:
        """Check one sign-in attempt; refused without checking while the client is locked out, or while
        attempts already in flight (parallel sessions) could use up its remaining tries."""
        with self._lock:
            state = self._clients.get(client)
            if state is None:
                self._prune()
                state = self._clients[client] = _Client()
            now = self._clock()
            if state.locked_until > now:
                return Attempt("locked", 0, state.locked_until - now)
            if state.failures + state.pending >= self.max_failures:
                return Attempt("busy", self.max_failures - state.failures - state.pending)
            state.pending += 1
        ok = verify_password(password, password_hash)  # slow on purpose (bcrypt): outside the lock
        with self._lock:
            state.pending -= 1
            if ok:
                state.failures = 0
                if not state.pending:
                    self._clients.pop(client, None)
                return Attempt("ok", self.max_failures)
            state.failures += 1
            if state.failures >= self.max_failures:
                pause = min(3600.0, self.lockout_seconds * 2**state.lockouts)
                state.locked_until = self._clock() + pause
                state.lockouts += 1
                state.failures = 0
                return Attempt("wrong", 0, pause)
            # What is true now: tries left, less those other sessions are still making.
            return Attempt("wrong", self.max_failures - state.failures - state.pending)

    def _prune(self) -> None:
        """Forget clients that are neither locked out nor mid-attempt once too many are tracked."""
        if len(self._clients) < MAX_TRACKED_CLIENTS:
            return
        now = self._clock()
        for key in [k for k, c in self._clients.items() if c.locked_until <= now and not c.pending]:
            del self._clients[key]
