"""The embeddable chat widget in Debian's headless Chromium: a shop page on a second local origin loads
`widget.js` from `cli.py serve`, asks a question, sees the streamed answer with its sources and rates it; a page
on an origin that is not allowed is refused and says so."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest
from child_env import child_env
from local_servers import free_port, serve

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.browser


def _answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def test_widget_on_an_allowed_origin_answers_with_sources_and_a_foreign_one_is_refused(tmp_path: Path, browser) -> None:
    store = tmp_path / "store"
    kb = KnowledgeBase(Settings(store_dir=store), embeddings=HashingEmbeddings())
    assert kb.ingest_paths([ROOT / "data/faq/store_faq.json"]).ok
    kb.store.close()
    api_port, shop_port, other_port = free_port(), free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        f"<!doctype html><html><head><title>Shop</title></head><body><h1>Our shop</h1>"
        f'<script src="{api}/widget/widget.js" defer></script></body></html>',
        encoding="utf-8",
    )
    env = child_env(
        ASSISTANT_STORE_DIR=str(store),
        ASSISTANT_EMBEDDING_PROVIDER="fake",
        ASSISTANT_FEEDBACK_DB=str(tmp_path / "log.sqlite3"),
        ASSISTANT_DECLINE_THRESHOLDS='{"en": 0.3, "es": 0.3}',
        ASSISTANT_API_ALLOWED_ORIGINS=json.dumps([f"http://127.0.0.1:{shop_port}"]),
    )
    static = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site)]
    with (
        serve([sys.executable, "cli.py", "serve", "--port", str(api_port)], lambda: _answers(f"{api}/readyz"),
              "the API", timeout=120, cwd=ROOT, env=env),
        serve([*static, str(shop_port)], lambda: _answers(f"http://127.0.0.1:{shop_port}/"), "the shop page"),
        serve([*static, str(other_port)], lambda: _answers(f"http://127.0.0.1:{other_port}/"), "another page"),
    ):  # fmt: skip
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{shop_port}/")
        page.get_by_role("button", name="Questions? Ask us").click()
        box = page.get_by_label("Your question")
        box.fill("Do gift cards expire?")
        box.press("Enter")
        page.get_by_text("never expire", exact=False).first.wait_for(timeout=60_000)
        sources = page.get_by_label("Sources")
        sources.wait_for(timeout=30_000)
        assert "store_faq.json" in sources.inner_text()
        page.get_by_role("button", name="Helpful", exact=True).click()
        page.get_by_text("Thanks for your feedback.").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "widget.png"), full_page=True)

        other = browser.new_page()
        other.goto(f"http://127.0.0.1:{other_port}/")
        other.get_by_role("button", name="Questions? Ask us").click()
        other.get_by_label("Your question").fill("Do gift cards expire?")
        other.get_by_label("Your question").press("Enter")
        other.get_by_text("not available on this site", exact=False).wait_for(timeout=30_000)
        assert other.get_by_text("never expire", exact=False).count() == 0
    rated = Settings(feedback_db=tmp_path / "log.sqlite3").feedback_db
    from services.conversation_log import ConversationLog

    assert [r["rating"] for r in ConversationLog(rated).rows()] == [1]  # the thumbs reached the log
