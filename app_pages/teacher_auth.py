"""The teacher's password: who may act on every run, with a growing wait after each wrong try."""
from __future__ import annotations

import streamlit as st

from digitdash import identity


@st.cache_resource(show_spinner=False)
def password_gate() -> identity.PasswordGate:
    """One gate per server process: wrong tries from any session make every next try wait longer."""
    return identity.PasswordGate()


def teacher_password() -> str | None:
    """The teacher's password from .streamlit/secrets.toml (`teacher_password`); None when not set."""
    try:
        value = st.secrets.get("teacher_password")
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return None
    return str(value) if value else None


def unlock_teacher(typed: str) -> tuple[bool, float]:
    """(True, 0) and teacher rights for this session when `typed` is the teacher's password; else
    (False, seconds before the next try is heard): each wrong try doubles the wait."""
    expected = teacher_password()
    if not expected:
        return False, 0.0
    ok, wait = password_gate().attempt(typed, expected)
    if ok:
        st.session_state["teacher"] = True
    return ok, wait


def is_teacher() -> bool:
    return bool(st.session_state.get("teacher")) and teacher_password() is not None
