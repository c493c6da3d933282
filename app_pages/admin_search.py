"""Admin: preview what the retriever returns for a customer question, with scores and the decline line."""

from __future__ import annotations

import streamlit as st

from app_pages.resources import assistant, knowledge_base, require_admin
from app_pages.widgets import product_line
from base.errors import StoreError
from base.language import detect_language
from base.links import render_safe
from base.settings import get_settings

require_admin()
settings = get_settings()
st.title("Search preview")
with st.spinner("Loading the offline embedding model (first time only)…"):
    kb = knowledge_base()
    _ = kb.embeddings
stats = kb.stats()
st.caption(f"{stats['documents']} documents, {stats['chunks']} chunks in the store")
if stats["chunks"] == 0:
    st.info("The store is empty. Upload files on the Knowledge page, or run `make run` to build the demo store.")

query = st.text_input("Customer question", max_chars=500, placeholder="e.g. Do you ship to Canada?")
k = st.slider("Results", 1, 10, settings.top_k)
if query.strip():
    try:
        hits = kb.search(query, k)
    except StoreError as exc:
        st.error(str(exc))
        hits = []
    lang = detect_language(query)
    threshold = assistant().extractive.threshold(lang)
    if hits and hits[0].score < threshold:
        st.warning(
            f"Top score {hits[0].score:.3f} is below the decline threshold {threshold:.2f} ({lang}): "
            "the assistant would decline and give the contact route. Consider adding an FAQ entry."
        )
    for n, hit in enumerate(hits, 1):
        meta = hit.metadata
        title = meta.get("title") or hit.source
        with st.container(border=True):
            st.markdown(
                f"**{n}. {render_safe(title, settings.allowed_link_hosts)}**  \n`{hit.source}` · score {hit.score:.3f}"
            )
            if meta.get("type") == "product":
                st.caption(product_line(meta))
            st.text(hit.text[:800])
