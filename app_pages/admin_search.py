"""Admin: preview what the retriever returns for a customer question, with scores and the decline line."""

from __future__ import annotations

import streamlit as st

from app_pages.resources import assistant, knowledge_base, require_admin
from app_pages.widgets import product_line
from base.errors import StoreError
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
        preview = assistant().preview(query, k)
    except StoreError as exc:
        st.error(str(exc))
        preview = None
    decision = preview.decision if preview else None
    if preview is not None and preview.fitted is not None:
        fitted = preview.fitted
        st.caption(
            f"Decline thresholds fitted to this store's knowledge at {fitted.fitted_at}: "
            + ", ".join(f"{lang} {t:.3f}" for lang, t in sorted(fitted.thresholds.items()))
            + " (re-fitted after every change; docs/retrieval-and-answers.md)."
        )
    elif preview is not None:
        st.caption("Decline thresholds: fixed by the settings (ASSISTANT_DECLINE_THRESHOLDS) or not fitted yet.")
    if decision is not None and decision.top_score is not None:
        verdict = "answer" if decision.answer else "decline and give the contact route"
        st.caption(
            f"Decline threshold ({decision.language}): {decision.threshold:.2f} · top score {decision.top_score:.3f}"
            f" · the assistant would {verdict}."
        )
        if decision.declined:
            st.warning(
                f"Top score {decision.top_score:.3f} is below the decline threshold {decision.threshold:.2f} "
                f"({decision.language}): the assistant would decline and give the contact route. Consider adding "
                "an FAQ entry."
            )
    for n, hit in enumerate(preview.hits if preview else [], 1):
        with st.container(border=True):
            st.markdown(
                f"**{n}. {render_safe(hit.title, settings.allowed_link_hosts)}**  \n`{hit.source}` · "
                f"score {hit.score:.3f}"
            )
            if hit.kind == "product":
                st.caption(product_line(hit.metadata))
            st.text(hit.text[:800])
