"""Admin: questions per day, thumbs-up share and the knowledge gaps, from the conversation log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.resources import conversation_log, require_admin
from base.exports import neutralise_rows
from services.analytics import summarize

require_admin()
st.title("Analytics")
summary = summarize(conversation_log().rows())
if not summary.questions:
    st.info("No conversations yet: numbers appear here once customers use the chat.")
    st.stop()

share = summary.thumbs_up_share
declined_share = summary.declined_share or 0.0
c1, c2, c3 = st.columns(3)
c1.metric("Questions", f"{summary.questions:,}")
c2.metric("Thumbs up", "—" if share is None else f"{share:.0%}", help=f"of {summary.rated:,} rated answers")
c3.metric("Declined", f"{declined_share:.0%}", help="questions the assistant could not answer from the store")

days = pd.DataFrame(
    {
        "day": [d.day for d in summary.days],
        "answered": [d.questions - d.declined for d in summary.days],
        "declined": [d.declined for d in summary.days],
    }
).set_index("day")
st.subheader("Questions per day")
st.bar_chart(days, y=["answered", "declined"], y_label="questions", color=["#2e7d32", "#c62828"])

rated_days = [d for d in summary.days if d.rated]
if rated_days:
    st.subheader("Thumbs-up share per day")
    st.line_chart(
        pd.DataFrame(
            {"day": [d.day for d in rated_days], "thumbs up": [d.thumbs_up / d.rated for d in rated_days]}
        ).set_index("day"),
        y_label="share of rated answers",
    )

st.subheader("Knowledge gaps: most frequent declined questions")
if summary.declined_top:
    gaps = pd.DataFrame(  # cells neutralised: the table's toolbar downloads it as CSV (base/exports.py)
        neutralise_rows({"question": g.question, "times": g.count} for g in summary.declined_top)
    )
    st.bar_chart(gaps, x="question", y="times", horizontal=True, sort="-times")
    st.dataframe(gaps, hide_index=True)
else:
    st.caption("No declined questions.")

st.subheader("Answers customers disliked")
if summary.disliked_top:
    st.dataframe(
        pd.DataFrame(neutralise_rows({"question": g.question, "thumbs down": g.count} for g in summary.disliked_top)),
        hide_index=True,
    )
else:
    st.caption("No thumbs-down yet.")
