"""Streamlit AppTest for the knowledge search page (fake embeddings, store in tmp_path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.knowledge import KnowledgeBase
from core.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_streamlit_cache():
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_search_page_shows_hits_with_sources() -> None:
    kb = KnowledgeBase(get_settings())
    assert kb.ingest_paths([ROOT / "data/faq/store_faq.json", ROOT / "data/products.csv"]).ok
    kb.store.close()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert "2 documents" in at.caption[0].value
    at.text_input[0].input("Do gift cards expire?").run()
    assert not at.exception
    body = " ".join(m.value for m in at.markdown)
    assert "store_faq.json" in body and "gift card" in body.lower()


def test_search_page_on_empty_store_explains_how_to_build_it() -> None:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert "store is empty" in at.info[0].value
