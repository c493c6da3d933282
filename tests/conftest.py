"""Test-wide fixtures: no outbound network, settings isolated in tmp_path (never from a `.env` file or the
developer's shell), shared model loads."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path

import pytest

from base.paths import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Before base.settings is first imported: no dotenv file, in this process and (inherited) in its children.
os.environ["ASSISTANT_ENV_FILE"] = ""

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
    """Every test gets its own store directory and the fake embedder unless it asks otherwise; nothing of the
    developer's own configuration (ASSISTANT_*, OPENAI_*, a `.env` file) reaches it."""
    from base.settings import Settings, get_settings

    assert Settings.model_config["env_file"] is None, "base.settings was imported before the test conftest"
    for var in [v for v in os.environ if v.startswith(("ASSISTANT_", "OPENAI_")) and v != "ASSISTANT_ENV_FILE"]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("ASSISTANT_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    monkeypatch.setenv("ASSISTANT_FINE_TUNED_MODEL_FILE", str(tmp_path / "fine_tuned_model_id.json"))
    monkeypatch.setenv("ASSISTANT_FINE_TUNE_EVAL_FILE", str(tmp_path / "finetune_eval.json"))
    monkeypatch.setenv("ASSISTANT_API_KEYS_FILE", str(tmp_path / "api_keys.json"))
    monkeypatch.setenv("ASSISTANT_ORDERS_DB", str(tmp_path / "orders.sqlite3"))
    monkeypatch.setenv("ASSISTANT_TICKETS_DB", str(tmp_path / "tickets.sqlite3"))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_PROVIDER", "fake")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


_FOLDER_MARKS = {"integration": "integration", "browser": "browser", "unit": "unit"}


def pytest_collection_modifyitems(config, items) -> None:
    """Every test is marked by its folder (unit, integration, browser), so `-m unit` is the fast set."""
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder in _FOLDER_MARKS:
            item.add_marker(getattr(pytest.mark, _FOLDER_MARKS[folder]))
