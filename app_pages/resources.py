"""Process-wide objects the pages share (one model load, one store, one sign-in limiter), and the admin gate."""

from __future__ import annotations

import time

import streamlit as st

from app_pages import preload
from base.clients import client_address
from base.kv import open_kv
from base.settings import get_settings
from services.assistant import Assistant, open_assistant
from services.auth import LoginLimiter
from services.conversation_log import ConversationLog
from services.knowledge import KnowledgeBase


@st.cache_resource(show_spinner=False)
def assistant() -> Assistant:
    """One assistant (models, store, conversation state keyed by session id) per server process: the one loaded
    when the server started (`cli.py app`), else built now. A store found unreadable after a crash is rebuilt in the
    background while customers are told "one moment"."""
    return preload.take() or open_assistant(get_settings(), recover_in_background=True)


def knowledge_base() -> KnowledgeBase:
    """The assistant's own knowledge base: admin writes are seen by the chat at once, with one model load."""
    return assistant().kb


def conversation_log() -> ConversationLog:
    """The log the assistant writes every answer to (read by the analytics and knowledge pages)."""
    log = assistant().log
    assert log is not None  # open_assistant always gives one
    return log


@st.cache_resource(show_spinner=False)
def login_limiter() -> LoginLimiter:
    settings = get_settings()
    return LoginLimiter(settings.login_max_failures, settings.login_lockout_seconds, kv=open_kv(settings.redis_url))


def client_id() -> str:
    """Who the failed sign-ins and order checks are counted against: the client's IP when Streamlit knows it (behind
    a trusted proxy, the X-Forwarded-For entry that proxy appended: `base.clients.client_address`)."""
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # no request context
        return "local"
    if not isinstance(peer, str):  # AppTest hands out a mock here
        peer = None
    address = client_address(
        forwarded if isinstance(forwarded, str) else None, peer, get_settings().login_trust_forwarded_for
    )
    return address if address != "unknown" else "local"


def is_admin() -> bool:
    """Signed in, and active within the session limit (an unattended admin tab signs itself out)."""
    state = st.session_state
    if not state.get("admin"):
        return False
    limit = get_settings().admin_session_minutes * 60
    if time.monotonic() - state.get("admin_seen", 0.0) > limit:
        sign_out()
        return False
    state.admin_seen = time.monotonic()
    return True


def sign_in() -> None:
    st.session_state.admin = True
    st.session_state.admin_seen = time.monotonic()


def sign_out() -> None:
    for key in ("admin", "admin_seen"):
        st.session_state.pop(key, None)


def require_admin() -> None:
    """First line of every admin page: stop here unless signed in (navigation already hides the pages)."""
    if not is_admin():
        st.error("Please sign in as staff first.")
        st.stop()
