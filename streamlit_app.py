"""Streamlit entry point: a thin layer over services (run with `make run`).

The chat is public. The admin pages (knowledge, search preview, analytics) exist in the navigation only
for a signed-in staff session, so their URLs lead nowhere without a sign-in; each page also checks.
"""

from __future__ import annotations

import streamlit as st

from app_pages.resources import is_admin, sign_out

st.set_page_config(page_title="Harbor & Pine assistant", page_icon="🛍️")
chat = st.Page("app_pages/chat.py", title="Chat", icon="💬", default=True)
if is_admin():
    knowledge = st.Page("app_pages/admin_knowledge.py", title="Knowledge", icon="📚", url_path="admin")
    pages = {
        "Customers": [chat],
        "Admin": [
            knowledge,
            st.Page("app_pages/admin_search.py", title="Search preview", icon="🔎", url_path="admin-search"),
            st.Page("app_pages/admin_analytics.py", title="Analytics", icon="📈", url_path="admin-analytics"),
            st.Page("app_pages/admin_model.py", title="Model", icon="🧠", url_path="admin-model"),
            st.Page("app_pages/admin_inbox.py", title="Inbox", icon="📥", url_path="admin-inbox"),
            st.Page("app_pages/admin_privacy.py", title="Personal data", icon="🛡️", url_path="admin-privacy"),
        ],
    }
    if st.sidebar.button("Sign out", icon="🔒"):
        sign_out()
        st.rerun()
else:
    knowledge = None
    pages = {"Customers": [chat], "Staff": [st.Page("app_pages/login.py", title="Staff sign-in", icon="🔑")]}
navigation = st.navigation(pages)
if knowledge is not None and st.session_state.pop("just_signed_in", False):
    st.switch_page(knowledge)
navigation.run()
