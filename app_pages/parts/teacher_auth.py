"""The teacher's rights in this browser: the link's key, the password, signing out (the rules are
digitdash.classroom.teacher_gate's; rights live in the store, keyed by the browser's signed student id)."""
from __future__ import annotations

import time

import streamlit as st

from app_pages.parts import student
from app_pages.parts.server import store
from digitdash.classroom import teacher_gate

_CHECK_EVERY = 5.0     # seconds a session trusts its last look at the store
TEACHER_UNTIL = "teacher-until"     # session state: (when the rights end or None, time.monotonic() of that look)


def teacher_password() -> str | None:
    """The teacher's password from .streamlit/secrets.toml (`teacher_password`); None when not set."""
    try:
        value = st.secrets.get("teacher_password")
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return None
    return str(value) if value else None


def _remember(expires: float | None) -> None:
    st.session_state[TEACHER_UNTIL] = (expires, time.monotonic())


def open_with_key(typed: str) -> float:
    """Teacher rights for this browser from the link's key; returns when they end (GateError if not)."""
    expires = teacher_gate.open_with_key(store(), student.owner(), typed)
    _remember(expires)
    return expires


def unlock_teacher(typed: str) -> tuple[bool, float]:
    """(True, 0) and teacher rights for this browser when `typed` is the teacher's password; else
    (False, seconds before this browser's next try is heard). GateError when the class's wrong tries
    have closed the password for now."""
    expires, wait = teacher_gate.try_password(store(), student.owner(), typed, teacher_password())
    if expires is not None:
        _remember(expires)
    return expires is not None, wait


def sign_out() -> None:
    teacher_gate.sign_out(store(), student.owner())
    _remember(None)


def until() -> float | None:
    """When this browser's teacher rights end; None without them (looked up at most every few seconds)."""
    seen = st.session_state.get(TEACHER_UNTIL)
    if seen is None or time.monotonic() - seen[1] > _CHECK_EVERY:
        _remember(teacher_gate.until(store(), student.owner()))
        seen = st.session_state[TEACHER_UNTIL]
    return seen[0] if seen[0] is not None and seen[0] > teacher_gate.clock() else None


def is_teacher() -> bool:
    return until() is not None
