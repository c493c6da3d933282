"""The suite never reads a `.env` file or the developer's keys, in-process or in the subprocesses it starts.

The README tells staff to put the admin hash in `.env`, and a developer may keep an OPENAI_API_KEY there; either
would change what the tests see, and a key would send test traffic to the real API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from child_env import child_env

from base.settings import ROOT, Settings, get_settings

PLANTED = (
    "OPENAI_API_KEY=sk-planted-by-test\n"
    "ASSISTANT_ADMIN_PASSWORD_HASH='$2b$12$abcdefghijklmnopqrstuuJ0mBvR0x8Wl1e3bNvq0m3dH0vQ8u1Wy'\n"
    "ASSISTANT_TOP_K=9\n"
)


def _settings_in_child(cwd: Path, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "settings", "--json"],
        cwd=cwd,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_planted_env_file_is_not_seen_by_the_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(PLANTED, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    for settings in (Settings(), get_settings()):
        assert settings.openai_api_key is None and settings.admin_password_hash is None and settings.top_k == 4

    seen = _settings_in_child(tmp_path)
    assert (seen["openai_api_key"], seen["admin_password_hash"], seen["top_k"]) == ("unset", "unset", 4)
    assert seen["chat_provider_resolved"] == "extractive" and seen["env_file"] is None

    # The control: the same child, told to read the file, sees all three (so the check above can fail).
    told = _settings_in_child(tmp_path, ASSISTANT_ENV_FILE=".env")
    assert (told["openai_api_key"], told["admin_password_hash"], told["top_k"]) == ("set", "set", 9)
    assert told["chat_provider_resolved"] == "openai"


def test_keys_in_the_developers_shell_do_not_reach_tests_or_their_children(monkeypatch: pytest.MonkeyPatch) -> None:
    # The autouse fixture already ran: a key exported in the shell before pytest started is gone here...
    assert get_settings().openai_api_key is None
    # ...and one set during a test is not passed to the subprocesses the test starts.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-shell")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    env = child_env()
    assert "OPENAI_API_KEY" not in env and "HTTPS_PROXY" not in env and env["ASSISTANT_ENV_FILE"] == ""


def test_every_file_the_app_writes_lives_in_the_test_s_tmp_path(tmp_path: Path) -> None:
    """The store, the log, the fine-tune id and evaluation files and the API keys: a test never touches the
    developer's own (a test that made an API key once wrote it into the repo's .data/)."""
    settings = get_settings()
    written = [
        "store_dir",
        "feedback_db",
        "fine_tuned_model_file",
        "fine_tune_eval_file",
        "api_keys_file",
        "orders_db",
        "tickets_db",
    ]
    for name in written:
        assert tmp_path in Path(getattr(settings, name)).parents, name
