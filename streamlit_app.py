"""Streamlit entry point: a thin layer over core.knowledge (run with `make run`).

The customer chat page (issue 3) and the admin page (issue 4) plug into the same navigation.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Harbor & Pine assistant", page_icon="🛍️")
navigation = st.navigation([st.Page("app_pages/knowledge_search.py", title="Knowledge search", icon="🔎")])
navigation.run()
