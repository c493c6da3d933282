"""Streamlit AppTest for the pages (fake embeddings, store and feedback DB in tmp_path)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from base.paths import ROOT
from base.settings import get_settings
from services.conversation_log import ConversationLog
from services.knowledge import KnowledgeBase

APP = str(ROOT / "streamlit_app.py")


@pytest.fixture(autouse=True)
def _fresh_streamlit_cache(monkeypatch: pytest.MonkeyPatch):
    import streamlit as st

    # Hashing embeddings score differently from the blend: a threshold that fits them.
    monkeypatch.setenv("ASSISTANT_DECLINE_THRESHOLDS", '{"en": 0.3, "es": 0.3}')
    get_settings.cache_clear()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def _ingest(*files: str) -> None:
    kb = KnowledgeBase(get_settings())
    assert kb.ingest_paths([ROOT / f for f in files]).ok
    kb.store.close()


def test_chat_answers_with_sources_and_stores_feedback() -> None:
    _ingest("data/faq/store_faq.json", "data/products.csv")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    at.chat_input[0].set_value("Do gift cards expire?").run()
    assert not at.exception
    assistant_msgs = [m for m in at.chat_message if m.name == "assistant"]
    assert assistant_msgs, "no assistant message"
    text = " ".join(md.value for md in assistant_msgs[-1].markdown)
    assert "never expire" in text.lower()
    assert any("Sources" in e.label for e in at.expander)
    assert any("Answered by: extractive" in c.value for c in at.caption)
    rows = ConversationLog(get_settings().feedback_db).rows()
    assert len(rows) == 1 and rows[0]["question"] == "Do gift cards expire?" and rows[0]["rating"] is None
    at.feedback[0].set_value(1).run()  # thumbs up
    assert ConversationLog(get_settings().feedback_db).rows()[0]["rating"] == 1


def test_chat_masks_pii_and_new_conversation_resets() -> None:
    _ingest("data/faq/store_faq.json")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.chat_input[0].set_value("my email is jane@example.com, how do I reset my password?").run()
    assert not at.exception
    assert "[email]" in ConversationLog(get_settings().feedback_db).rows()[0]["question"]
    first_session = at.session_state["session_id"]
    at.button[0].click().run()
    assert at.session_state["session_id"] != first_session
    assert at.session_state["messages"] == []
