"""Customer chat: streamed answers with sources, per-session memory, thumbs feedback (thin over services)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import streamlit as st

from app_pages.resources import assistant, client_id
from app_pages.widgets import product_line
from base.links import render_safe, source_link
from base.settings import get_settings
from base.types import Hit
from services.assistant import MAX_QUESTION_CHARS


def paced(chunks: Iterator[str]) -> Iterator[str]:
    """Model tokens pass through; a whole extractive answer arriving at once is shown word by word."""
    for chunk in chunks:
        if len(chunk) <= 40:
            yield chunk
            continue
        for word in chunk.split(" "):
            yield word + " "
            time.sleep(0.01)


def safe(text: str) -> str:
    """Knowledge-derived Markdown with only the shop's own links live and no images (base/links.py)."""
    return render_safe(text, settings.allowed_link_hosts)


def show_answer(chunks: Iterator[str]) -> None:
    """Stream the answer; the text is made safe as a whole each time (a link may arrive in pieces)."""
    box, shown = st.empty(), ""
    for piece in paced(chunks):
        shown += piece
        box.markdown(safe(shown) + " ▌")
    box.markdown(safe(shown))


def show_sources(sources: list[Hit]) -> None:
    if not sources:
        return
    with st.expander(f"Sources ({len(sources)})"):
        for n, src in enumerate(sources, 1):
            url = src.metadata.get("url")  # a crawled page: its address, live when it is the shop's own site
            where = source_link(url or src.source, url, settings.allowed_link_hosts)
            st.markdown(f"**[{n}] {safe(src.title)}**  \n{where}")
            if src.kind == "product":
                st.caption(product_line(src.metadata))
            snippet = src.snippet
            st.caption(safe(snippet[:300] + ("…" if len(snippet) > 300 else "")))


def rate(interaction_id: int, key: str) -> None:
    value = st.session_state.get(key)
    assistant().rate(interaction_id, None if value is None else int(value))


settings = get_settings()
state = st.session_state
state.setdefault("session_id", uuid.uuid4().hex)
state.setdefault("messages", [])

st.title(f"{settings.store_name} help")
st.caption("Ask about products, orders, shipping, returns and payment.")
if st.button("New conversation", icon="🔄"):
    assistant().forget({state.session_id})
    state.session_id, state.messages = uuid.uuid4().hex, []

with st.spinner("Loading the offline models (first time only, ~10 s)…"):
    bot = assistant()
    _ = bot.kb.embeddings

for msg in state.messages:
    with st.chat_message(msg["role"]):
        st.markdown(safe(msg["content"]) if msg["role"] == "assistant" else msg["content"])
        if msg["role"] == "assistant" and msg["id"] is not None:
            st.caption(f"Answered by: {msg['model']}")
            show_sources(msg["sources"])
            st.feedback("thumbs", key=f"fb-{msg['id']}", on_change=rate, args=(msg["id"], f"fb-{msg['id']}"))

question = st.chat_input("Type your question", max_chars=MAX_QUESTION_CHARS)
if question:
    state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        result = None
        try:
            pending = bot.ask_stream(question, session_id=state.session_id, client=client_id())
            show_answer(pending.chunks())
            result = pending.shown
        except Exception as exc:  # store/search failures become a message, never a stack trace
            st.error(
                f"Sorry, something went wrong on our side ({type(exc).__name__}). Please try again, or contact "
                f"{settings.contact_email}."
            )
        if result is not None and result.unavailable:  # the store is recovering: nothing was logged to rate
            state.messages.append(
                {"role": "assistant", "content": result.answer, "sources": [], "model": result.model, "id": None}
            )
        elif result is not None:  # the assistant has logged it: `interaction_id` is its row for the rating
            st.caption(f"Answered by: {result.model}")
            show_sources(result.sources)  # shown before the log is written (its masking may still be loading)
            row_id = pending.result.interaction_id if pending.result is not None else None
            state.messages.append(
                {
                    "role": "assistant",
                    "content": result.answer,
                    "sources": result.sources,
                    "model": result.model,
                    "id": row_id,
                }
            )
            if row_id is not None:
                st.feedback("thumbs", key=f"fb-{row_id}", on_change=rate, args=(row_id, f"fb-{row_id}"))
