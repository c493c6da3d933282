"""Real-browser smoke tests in Debian's headless Chromium against a real `streamlit run`: the chat page answers
with sources; staff sign in, upload a file through the real upload endpoint, and the chat answers from it."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

import bcrypt
import pytest
from child_env import child_env
from local_servers import free_port, serve

from base.paths import ROOT
from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.browser
PASSWORD = "harbor-and-pine-staff"


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
    env = child_env(
        ASSISTANT_STORE_DIR=str(store),
        ASSISTANT_EMBEDDING_PROVIDER="fake",
        ASSISTANT_FEEDBACK_DB=str(tmp_path / "fb.sqlite3"),
        ASSISTANT_DECLINE_THRESHOLDS='{"en": 0.3, "es": 0.3}',
        ASSISTANT_ADMIN_PASSWORD_HASH=bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode(),
    )
    argv = [sys.executable, "cli.py", "app", "--port", str(port), "--address", "127.0.0.1",
            "--headless"]  # fmt: skip  # what `make run` starts: models load as the server starts
    url = f"http://127.0.0.1:{port}"
    with serve(argv, lambda: _healthy(url), "streamlit", cwd=ROOT, env=env):
        yield url


def _ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=60_000)
    box.fill(question)
    box.press("Enter")


def test_chat_page_answers_with_sources_in_chromium(app_url: str, browser, tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(app_url)
    _ask(page, "Do gift cards expire?")
    page.get_by_text("never expire", exact=False).first.wait_for(timeout=60_000)
    page.get_by_text("Sources (", exact=False).first.wait_for(timeout=60_000)
    assert page.get_by_text("Answered by: extractive").count() >= 1
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)


def test_staff_sign_in_upload_then_customers_get_the_answer(app_url: str, browser, tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(f"{app_url}/admin")  # not reachable before signing in
    page.get_by_text("Page not found", exact=False).first.wait_for(timeout=60_000)
    assert page.get_by_text("Documents in the store").count() == 0
    page.screenshot(path=str(tmp_path / "not-found.png"), full_page=True)
    page.goto(app_url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)

    page.get_by_text("Staff sign-in").first.click()
    field = page.get_by_label("Admin password")
    field.wait_for(timeout=30_000)
    field.fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong password", exact=False).wait_for(timeout=30_000)
    field.fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Documents in the store").wait_for(timeout=60_000)

    faq = tmp_path / "extras_faq.json"
    faq.write_text(
        '{"questions": [{"question": "Do you offer gift wrapping?", "answer": "Yes, gift wrap costs $4.99."}]}'
    )
    page.locator("input[type=file]").set_input_files([str(faq)])
    page.get_by_role("button", name="Add to knowledge base").click()
    page.get_by_text("extras_faq.json added: 1 chunk", exact=False).wait_for(timeout=60_000)
    page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)

    page.get_by_role("link", name="Chat").first.click()
    _ask(page, "Do you offer gift wrapping?")
    page.get_by_text("gift wrap costs $4.99", exact=False).first.wait_for(timeout=60_000)
