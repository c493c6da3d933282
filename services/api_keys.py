"""API keys for server-to-server callers of the REST API: only a SHA-256 hash of each key is stored.

A key is 32 random bytes (URL-safe text with an `hp_` prefix), shown once at creation; losing it means creating
another. The file is small JSON written atomically, one entry per key name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from base.files import write_json_atomic

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ApiKeyError(ValueError):
    """A bad key name, a duplicate or an unknown one: one line for the user."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    """Create, list, revoke and verify keys kept as hashes in one JSON file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ApiKeyError(f"{self.path} cannot be read: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict]) -> None:
        write_json_atomic(self.path, data, mode=0o600)

    def create(self, name: str) -> str:
        """A new key for `name` (returned once, never stored)."""
        if not _NAME.match(name):
            raise ApiKeyError("a key name is 1-64 letters, digits, '.', '_' or '-'")
        with self._lock:
            data = self._read()
            if name in data:
                raise ApiKeyError(f"a key named {name!r} exists; revoke it first")
            key = "hp_" + secrets.token_urlsafe(32)
            data[name] = {"sha256": _digest(key), "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
            self._write(data)
        return key

    def list(self) -> list[dict]:
        return [{"name": name, "created_at": entry.get("created_at")} for name, entry in sorted(self._read().items())]

    def revoke(self, name: str) -> None:
        with self._lock:
            data = self._read()
            if name not in data:
                raise ApiKeyError(f"no key named {name!r}")
            del data[name]
            self._write(data)

    def verify(self, key: str) -> str | None:
        """The name of the key, or None. Every stored hash is compared in constant time."""
        digest = _digest(key)
        found = None
        for name, entry in self._read().items():
            if hmac.compare_digest(str(entry.get("sha256", "")), digest):
                found = name
        return found
