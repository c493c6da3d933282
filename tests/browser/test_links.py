"""In a real Chromium: a link in knowledge to another host is not clickable, a link to the shop's own site is, and
no image from knowledge is fetched (a local server stands in for the tracker and records every request)."""

from __future__ import annotations

import json
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from child_env import child_env
from local_servers import CHROMIUM, CHROMIUM_ARGS, free_port, serve

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.browser


@pytest.fixture
def tracker():
    """An HTTP server on 127.0.0.1 that answers everything with a 1x1 GIF and records what was asked."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def test_foreign_links_are_dead_and_no_image_is_fetched(tmp_path: Path, tracker) -> None:
    evil, requests = tracker
    answer = (
        f"Refunds go through [our secure refund portal]({evil}/phish-login) ![]({evil}/pixel.png) "
        f'<img src="{evil}/html-pixel.png"> (or {evil}/bare). Track it in '
        "[your orders](https://harborandpine.example/account/orders)."
    )
    faq = tmp_path / "refunds.json"
    faq.write_text(json.dumps([{"question": "How do I get a refund for my order?", "answer": answer}]))
    store = tmp_path / "store"
    kb = KnowledgeBase(Settings(store_dir=store, parse_isolation=False, _env_file=None), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([faq]).ok
    kb.store.close()
    port = free_port()
    env = child_env(ASSISTANT_STORE_DIR=str(store), ASSISTANT_EMBEDDING_PROVIDER="fake",
                    ASSISTANT_FEEDBACK_DB=str(tmp_path / "fb.sqlite3"),
                    ASSISTANT_DECLINE_THRESHOLDS='{"en": 0.3, "es": 0.3}')  # fmt: skip
    argv = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    with serve(argv, lambda: _healthy(url), "streamlit", cwd=ROOT, env=env), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=child_env(HOME=str(tmp_path)))
        page = browser.new_page()
        page.goto(url)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for(timeout=60_000)
        box.fill("How do I get a refund for my order?")
        box.press("Enter")
        page.get_by_text("our secure refund portal", exact=False).first.wait_for(timeout=60_000)
        page.get_by_text("Sources (", exact=False).first.wait_for(timeout=30_000)
        page.get_by_text("Sources (", exact=False).first.click()  # the sources show the answer again
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(tmp_path / "links.png"), full_page=True)
        assert page.locator(f"a[href^='{evil}']").count() == 0  # not clickable
        assert page.locator(f"img[src^='{evil}']").count() == 0
        assert page.locator("a[href='https://harborandpine.example/account/orders']").count() >= 1
        browser.close()
    assert requests == [], requests  # the browser never asked the tracker for anything
