"""`cli.py serve` as a real process on 127.0.0.1: a key made with `cli.py api-key create`, a streamed answer read
over HTTP as Server-Sent Events, readiness, and the same store and conversation log as the app's settings say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from child_env import child_env
from local_servers import free_port, serve

from base.paths import ROOT
from base.settings import Settings
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration


def test_serve_streams_an_answer_from_the_configured_store(tmp_path: Path) -> None:
    kb = KnowledgeBase(Settings())  # the fake embedder and the tmp_path store of tests/conftest.py
    assert kb.ingest_paths([ROOT / "data/faq/store_faq.json"]).ok
    kb.store.close()
    env = child_env(ASSISTANT_DECLINE_THRESHOLDS='{"en": 0.3, "es": 0.3}')
    made = subprocess.run(
        [sys.executable, "cli.py", "api-key", "create", "crm"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("hp_") and "shown only now" in made.stderr
    listed = subprocess.run(
        [sys.executable, "cli.py", "api-key", "list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.stdout.startswith("crm\t") and key not in listed.stdout
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    argv = [sys.executable, "cli.py", "serve", "--port", str(port)]
    with serve(argv, ready, "the API", timeout=120, cwd=ROOT, env=env):
        headers = {"Authorization": f"Bearer {key}"}
        events = []
        with httpx.stream(
            "POST", f"{base}/v1/chat", json={"message": "Do gift cards expire?"}, headers=headers, timeout=60
        ) as response:
            assert response.status_code == 200
            kind = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:])))
        done = dict(events)["done"]
        assert "expire" in done["answer"].lower() and done["sources"][0]["source"] == "store_faq.json"
        assert httpx.post(f"{base}/v1/chat", json={"message": "hi"}, timeout=30).status_code == 401
    assert Settings().feedback_db.exists()  # the answer went to the log the settings name
    assert Settings().api_keys_file.exists() and tmp_path in Settings().api_keys_file.parents
