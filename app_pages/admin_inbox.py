"""Admin: tickets from customers who asked for a person (or were declined twice): read, answer, close, and turn an
answer into an FAQ entry. *Save as FAQ entry* opens a preview of what every customer would see (the customer's
request and the reply without greeting or sign-off, both editable); a draft that holds no question or personal data
is refused there and again by the service (services/handoff.py, `faq_draft`)."""

from __future__ import annotations

import streamlit as st

from app_pages.resources import assistant, knowledge_base, require_admin
from services.handoff import faq_draft, faq_problems
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
        st.text(f"Request: {ticket.request or '(none: the customer only asked for a person)'}"[:2000])
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

        def prepare(tid: int = ticket.id, request: str = ticket.request, k: str = key) -> None:
            draft = faq_draft(request, state.get(k, ""), desk.masker)
            state[f"faq-q-{tid}"] = draft.question
            state[f"faq-a-{tid}"] = draft.answer
            state[f"faq-open-{tid}"] = True

        save.button("Save answer", key=f"save-{ticket.id}", on_click=record)
        close.button("Close ticket", key=f"close-{ticket.id}", on_click=finish, disabled=ticket.status == "closed")
        faq.button("Save as FAQ entry", key=f"faq-{ticket.id}", on_click=prepare)
        if state.get(f"faq-open-{ticket.id}"):
            st.markdown("**FAQ entry preview**: every customer who asks something like this will see this answer.")
            st.text_input("Question", key=f"faq-q-{ticket.id}", max_chars=300)
            st.text_area("Answer", key=f"faq-a-{ticket.id}", max_chars=2000)
            problems = faq_problems(
                state.get(f"faq-q-{ticket.id}", ""), state.get(f"faq-a-{ticket.id}", ""), desk.masker
            )
            for problem in problems:
                st.warning(f"Can't publish: {problem}.")

            def publish(tid: int = ticket.id) -> None:
                question, answer = state.get(f"faq-q-{tid}", ""), state.get(f"faq-a-{tid}", "")
                checked = faq_problems(question, answer, desk.masker)  # exactly what the preview shows
                if checked:
                    state.inbox_message = f"Ticket #{tid}: not published ({'; '.join(checked)})."
                    return
                outcome = add_faq_entry(knowledge_base(), question, answer)
                reason = f" ({outcome.reason})" if outcome.reason else ""
                state.inbox_message = f"Ticket #{tid}: FAQ entry {outcome.status}{reason}."
                state[f"faq-open-{tid}"] = False

            def cancel(tid: int = ticket.id) -> None:
                state[f"faq-open-{tid}"] = False

            go, stop = st.columns(2)
            go.button("Publish FAQ entry", key=f"publish-{ticket.id}", on_click=publish, disabled=bool(problems))
            stop.button("Cancel", key=f"cancel-{ticket.id}", on_click=cancel)
if state.get("inbox_message"):
    st.success(state.pop("inbox_message"))
