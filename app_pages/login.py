"""Staff sign-in: bcrypt-checked password, failed attempts limited per client (services.auth)."""

from __future__ import annotations

import streamlit as st

from app_pages.resources import client_id, login_limiter, sign_in
from base.settings import get_settings
from services.auth import is_bcrypt_hash

settings = get_settings()
st.title("Staff sign-in")
if not settings.admin_password_hash:
    st.warning(
        "The admin pages are switched off: no admin password is configured. Create a hash with "
        "`.venv/bin/python cli.py hash-password --write-env .env` (or set `ASSISTANT_ADMIN_PASSWORD_HASH`)."
    )
    st.stop()
if not is_bcrypt_hash(settings.admin_password_hash):
    st.error(
        "The admin password hash is misconfigured (not a bcrypt hash: was a `$` eaten by the shell?). Create it "
        "again with `.venv/bin/python cli.py hash-password --write-env .env`."
    )
    st.stop()

limiter = login_limiter()
client = client_id()
wait = limiter.wait_seconds(client)
if wait > 0:
    st.error(f"Too many wrong passwords. Try again in {wait:.0f} s.")
    st.stop()

with st.form("sign-in", clear_on_submit=True):
    password = st.text_input("Admin password", type="password", max_chars=72)
    submitted = st.form_submit_button("Sign in")
if submitted:
    attempt = limiter.attempt(client, password, settings.admin_password_hash)
    if attempt:
        sign_in()
        st.session_state.just_signed_in = True
        st.rerun()
    if attempt.outcome == "busy":
        st.error("Another sign-in from your address is still being checked; try again in a moment.")
    elif attempt.wait > 0:
        wrong = "Wrong password. " if attempt.outcome == "wrong" else ""
        st.error(f"{wrong}Too many attempts: try again in {attempt.wait:.0f} s.")
    else:
        st.error(f"Wrong password. {attempt.left} attempt(s) left before a pause.")
