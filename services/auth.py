"""Admin sign-in: a bcrypt hash from settings and a per-client limit on failed attempts.

The plain password never lives in settings, code or logs; only its bcrypt hash does. Failed attempts are
counted per client (IP address when Streamlit knows it) in the shared backend (base/kv.py: this process, or Redis
for several workers), so reloading the page, opening a new session or reaching another worker does not reset the
count.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import bcrypt

from base.kv import KeyValue, MemoryKV

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


def is_bcrypt_hash(value: str | None) -> bool:
    """True for a well-formed bcrypt hash (a mangled one, e.g. '$' eaten by a shell, must not lock staff out)."""
    return bool(value and _BCRYPT.match(value))


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


MAX_LOCKOUT = 3600.0
IN_FLIGHT_SECONDS = 60.0  # a check not finished by then (its worker died) no longer holds a try


class LoginLimiter:
    """After `max_failures` wrong passwords a client waits `lockout_seconds`, doubled on every repeat (capped at one
    hour); a correct password resets it. Each client's record lives in the backend `kv` for two idle hours."""

    def __init__(
        self,
        max_failures: int = 5,
        lockout_seconds: float = 60.0,
        clock: Callable[[], float] | None = None,
        kv: KeyValue | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self.kv = kv if kv is not None else MemoryKV(clock=clock or time.time)
        self._clock = clock or self.kv.clock

    @staticmethod
    def _key(client: str) -> str:
        return f"login:{client}"

    def wait_seconds(self, client: str) -> float:
        """Seconds until `client` may try again (0 = now)."""
        state = self.kv.get(self._key(client)) or {}
        return max(0.0, state.get("locked_until", 0.0) - self._clock())

    def attempt(self, client: str, password: str, password_hash: str | None) -> Attempt:
        """Check one sign-in attempt; refused without checking while the client is locked out, or while attempts
        already in flight (parallel sessions) could use up its remaining tries."""
        now = self._clock()
        ticket = [now, secrets.token_hex(8)]

        def start(state: dict | None) -> tuple[dict, Attempt | None]:
            state = _fresh(state, now)
            if state["locked_until"] > now:
                return state, Attempt("locked", 0, state["locked_until"] - now)
            if state["failures"] + len(state["pending"]) >= self.max_failures:
                return state, Attempt("busy", self.max_failures - state["failures"] - len(state["pending"]))
            state["pending"].append(ticket)
            return state, None

        refused = self.kv.update(self._key(client), start, 2 * MAX_LOCKOUT)
        if refused is not None:
            return refused
        ok = verify_password(password, password_hash)  # slow on purpose (bcrypt): outside the backend's update

        def finish(state: dict | None) -> tuple[dict | None, Attempt]:
            state = _fresh(state, self._clock())
            state["pending"] = [t for t in state["pending"] if t[1] != ticket[1]]
            pending = len(state["pending"])
            if ok:
                state["failures"] = 0
                return (state if pending else None), Attempt("ok", self.max_failures)
            state["failures"] += 1
            if state["failures"] >= self.max_failures:
                pause = min(MAX_LOCKOUT, self.lockout_seconds * 2 ** state["lockouts"])
                state["locked_until"] = self._clock() + pause
                state["lockouts"] += 1
                state["failures"] = 0
                return state, Attempt("wrong", 0, pause)
            # What is true now: tries left, less those other sessions are still making.
            return state, Attempt("wrong", self.max_failures - state["failures"] - pending)

        return self.kv.update(self._key(client), finish, 2 * MAX_LOCKOUT)


def _fresh(state: dict | None, now: float) -> dict:
    """The client's record with stale in-flight tries dropped (a worker that died mid-check)."""
    state = dict(state or {"failures": 0, "lockouts": 0, "locked_until": 0.0, "pending": []})
    state["pending"] = [t for t in state.get("pending", []) if now - t[0] < IN_FLIGHT_SECONDS]
    return state
