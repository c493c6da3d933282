"""Admin: customers' personal data. Erase a customer on request (GDPR/CCPA), see the retention period, and check how
a text would be stored (the same masking as the log). A thin page over services/privacy.py."""

from __future__ import annotations

import streamlit as st

from app_pages.resources import assistant, require_admin

require_admin()
st.title("Personal data")
bot = assistant()
desk = bot.privacy
if desk is None:
    st.info("This assistant keeps no conversation log.")
    st.stop()
state = st.session_state

st.subheader("Erase a customer")
st.caption(
    "Removes the customer's conversations from the log (questions, answers, ratings), their hand-off tickets, and "
    "what this server holds in memory for those conversations. It cannot be undone."
)
email = st.text_input("Customer's e-mail address", key="forget-email")
phone = st.text_input("…or phone number", key="forget-phone")


def erase() -> None:
    try:
        report = desk.forget(email=state.get("forget-email") or None, phone=state.get("forget-phone") or None)
    except ValueError as exc:
        state.privacy_message = ("error", f"{exc}.")
        return
    bot.forget(report.sessions)
    state.privacy_message = ("success", "Erased. " + "; ".join(report.lines()) + ".")


st.button("Erase everything about this customer", on_click=erase, type="primary")
message = state.pop("privacy_message", None)
if message:
    (st.success if message[0] == "success" else st.error)(message[1])

st.subheader("Retention")
if desk.retention_days:
    st.write(f"Conversations and answered or closed tickets are deleted after {desk.retention_days} days.")
else:
    st.write("No retention period is set: conversations are kept until erased (`ASSISTANT_LOG_RETENTION_DAYS`).")

st.subheader("How a text is stored")
sample = st.text_area("Text", key="mask-sample", max_chars=4000)
if sample:
    st.text(desk.masker.mask(sample))
