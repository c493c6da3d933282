"""Admin: tickets from customers who asked for a person (or were declined twice): read, answer, close, and turn an
answer into an FAQ entry through the same path as *Add an answer*."""

from __future__ import annotations

import streamlit as st

from app_pages.resources import assistant, knowledge_base, require_admin
from services.uploads import add_faq_entry

require_admin()
st.title("Inbox")
desk = assistant().handoff
if desk is None:
    st.info("Hand-off to people is not enabled for this assistant.")
    st.stop()
tickets = desk.tickets
state = st.session_state
show = st.radio("Show", ["Not closed", "Open", "Answered", "Closed", "All"], horizontal=True, key="inbox-filter")
listed = tickets.list(None if show in ("All", "Not closed") else show.lower())
if show == "Not closed":
    listed = [t for t in listed if t.status != "closed"]
if not listed:
    st.caption("No tickets here.")
for ticket in listed:
    label = f"#{ticket.id} · {ticket.status} · {ticket.created_at.replace('T', ' ')[:16]} UTC · {ticket.reason}"
    with st.expander(label, expanded=ticket.status == "open"):
        st.caption(f"Reply to: {ticket.email}")
        for line in ticket.transcript:
            who = "Customer" if line["role"] == "customer" else "Assistant"
            st.text(f"{who}: {line['text']}"[:2000])  # as plain text: never rendered as Markdown
        key = f"answer-{ticket.id}"
        st.text_area(
            "Answer (send it to the customer's email; it is recorded here)",
            value=ticket.answer or "",
            key=key,
            max_chars=4000,
        )
        save, close, faq = st.columns(3)

        def record(tid: int = ticket.id, k: str = key) -> None:
            try:
                tickets.answer(tid, state.get(k, ""))
                state.inbox_message = f"Ticket #{tid}: answer recorded."
            except ValueError as exc:
                state.inbox_message = f"Ticket #{tid}: {exc}."

        def finish(tid: int = ticket.id) -> None:
            tickets.close(tid)
            state.inbox_message = f"Ticket #{tid} closed."

        def to_faq(question: str = ticket.first_question, k: str = key, tid: int = ticket.id) -> None:
            outcome = add_faq_entry(knowledge_base(), question, state.get(k, ""))
            reason = f" ({outcome.reason})" if outcome.reason else ""
            state.inbox_message = f"Ticket #{tid}: FAQ entry {outcome.status}{reason}."

        save.button("Save answer", key=f"save-{ticket.id}", on_click=record)
        close.button("Close ticket", key=f"close-{ticket.id}", on_click=finish, disabled=ticket.status == "closed")
        faq.button("Save as FAQ entry", key=f"faq-{ticket.id}", on_click=to_faq)
if state.get("inbox_message"):
    st.success(state.pop("inbox_message"))
