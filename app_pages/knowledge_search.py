"""Preview what the retriever returns for a question (the knowledge core's page until the chat lands)."""

from __future__ import annotations

import streamlit as st

from app_pages.widgets import product_line
from core.knowledge import KnowledgeBase
from core.settings import get_settings
from vectorstore.store import StoreError


@st.cache_resource(show_spinner=False)
def knowledge_base() -> KnowledgeBase:
    """One knowledge base (and one embedding model) per server process."""
    return KnowledgeBase(get_settings())


settings = get_settings()
st.title(f"{settings.store_name} — knowledge search")
with st.spinner("Loading the offline embedding model (first time only)…"):
    kb = knowledge_base()
    _ = kb.embeddings
stats = kb.stats()
st.caption(f"{stats['documents']} documents, {stats['chunks']} chunks in the store")
if stats["chunks"] == 0:
    st.info("The store is empty. Build it with `make run` or `.venv/bin/python cli.py ingest data`.")

query = st.text_input("Customer question", max_chars=500, placeholder="e.g. Do you ship to Canada?")
k = st.slider("Results", 1, 10, settings.top_k)
if query.strip():
    try:
        hits = kb.search(query, k)
    except StoreError as exc:
        st.error(str(exc))
        hits = []
    for n, hit in enumerate(hits, 1):
        meta = hit.metadata
        title = meta.get("title") or hit.source
        with st.container(border=True):
            st.markdown(f"**{n}. {title}**  \n`{hit.source}` · score {hit.score:.3f}")
            if meta.get("type") == "product":
                st.caption(product_line(meta))
            st.text(hit.text[:800])
