"""Test-wide fixtures: no outbound network, settings isolated in tmp_path, shared model loads."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # unix sockets
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):
    def connect(self, address):
        if not _is_local(address):
            raise OSError(f"outbound network blocked in tests: {address!r}")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may only talk to 127.0.0.1 (the local fakes); anything else fails loudly."""
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own store directory and the fake embedder unless it asks otherwise."""
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_PROVIDER", "fake")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ASSISTANT_OPENAI_API_KEY", "ASSISTANT_OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    from core.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
