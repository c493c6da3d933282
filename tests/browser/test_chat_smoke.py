"""Real-browser smoke test: Debian's headless Chromium loads the chat page, asks, sees an answer with sources."""

from __future__ import annotations

import os
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest
from local_servers import free_port, serve

from core.embeddings import HashingEmbeddings
from core.knowledge import KnowledgeBase
from core.settings import Settings

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags that keep Chromium off the (closed) network and quiet in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


@pytest.fixture
def app_url(tmp_path: Path):
    store = tmp_path / "store"
    kb = KnowledgeBase(Settings(store_dir=store), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([ROOT / "data/faq/store_faq.json", ROOT / "data/products.csv"]).ok
    kb.store.close()
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_STORE_DIR": str(store),
        "ASSISTANT_EMBEDDING_PROVIDER": "fake",
        "ASSISTANT_FEEDBACK_DB": str(tmp_path / "fb.sqlite3"),
        "ASSISTANT_DECLINE_THRESHOLDS": '{"en": 0.3, "es": 0.3}',
    }
    argv = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with serve(argv, lambda: _healthy(url), "streamlit", cwd=ROOT, env=env):
        yield url


def test_chat_page_answers_with_sources_in_chromium(app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is needed: apt-get install chromium (make test does it)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env={**os.environ, "HOME": str(tmp_path)}
        )
        page = browser.new_page()
        page.goto(app_url)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for(timeout=60_000)
        box.fill("Do gift cards expire?")
        box.press("Enter")
        page.get_by_text("never expire", exact=False).first.wait_for(timeout=60_000)
        page.get_by_text("Sources (", exact=False).first.wait_for(timeout=10_000)
        assert page.get_by_text("Answered by: extractive").count() >= 1
        page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
        browser.close()
