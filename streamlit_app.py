"""Streamlit entry point: a thin layer over core.knowledge (run with `make run`).

The admin page (issue 4) plugs into the same navigation.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Harbor & Pine assistant", page_icon="🛍️")
navigation = st.navigation(
    [
        st.Page("app_pages/chat.py", title="Chat", icon="💬", default=True),
        st.Page("app_pages/knowledge_search.py", title="Knowledge search", icon="🔎"),
    ]
)
navigation.run()
