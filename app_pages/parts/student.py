"""Who this browser is: a student id kept in a signed cookie, and the name the student goes by."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from app_pages.parts.language import say, t
from app_pages.parts.server import store
from digitdash.classroom import identity
from digitdash.i18n import Problem
from digitdash.runs.store import TEACHER

# Session-state keys used here only (pages ask owner(), owner_name() and namer(), never the keys)
OWNER = "owner"                    # this browser's student id
NEW_TOKEN = "new-token"            # a new student's signed token, written to the browser's cookie once
NAME_BOX = "student-name"          # the name the student goes by (a widget key)
NAME_REFUSED = "name-problem"      # why the typed name was refused (a Message), said once
NAME_HEARD = "name-heard"          # what the name box held when this session last saved or read the name


def owner() -> str:
    """This browser's student id: runs it submits are its own. The id comes from the signed token
    the browser keeps in a cookie, so it survives reloads, closed tabs and server restarts; a
    browser without a valid token gets a new id and token (stored by identity_ui)."""
    if OWNER not in st.session_state:
        student = identity.student_of(st.context.cookies.get(identity.COOKIE))
        if student is None:
            student, st.session_state[NEW_TOKEN] = identity.new_student()
        st.session_state[OWNER] = student
    return st.session_state[OWNER]


def identity_ui() -> None:
    """Store a new token in the browser, and the name the student goes by (typed once)."""
    me = owner()
    token = st.session_state.pop(NEW_TOKEN, None)
    if token:
        st.html(identity.cookie_script(token), unsafe_allow_javascript=True)
    if NAME_BOX not in st.session_state:
        st.session_state[NAME_BOX] = st.session_state[NAME_HEARD] = store().student_names().get(me, "")
    elif st.session_state[NAME_BOX] != st.session_state.get(NAME_HEARD):
        _save_name()             # typed while the first page was drawn: the box had no callback yet
    st.text_input(t("common.your_name"), key=NAME_BOX, max_chars=40, on_change=_save_name,
                  placeholder=t("common.your_name_placeholder"), help=t("common.your_name_help"))
    if NAME_REFUSED in st.session_state:
        st.error(say(st.session_state.pop(NAME_REFUSED)))


def _save_name() -> None:
    try:
        st.session_state[NAME_BOX] = store().set_student_name(owner(), st.session_state[NAME_BOX])
    except Problem as exc:       # a name taken, invisible characters, a full disk
        st.session_state[NAME_REFUSED] = exc.message
    st.session_state[NAME_HEARD] = st.session_state[NAME_BOX]         # heard: a refusal is said once


def owner_name(run_owner: str | None, names: dict[str, str] | None = None) -> str:
    """Who a run belongs to, as people read it: "you", a student's name, or the command-line owner."""
    return namer(names)(run_owner)


def namer(names: dict[str, str] | None = None, mark_viewer: bool = True) -> Callable[[str | None], str]:
    """owner_name for many runs at once (this browser and the words read once, not per run); without
    `mark_viewer`, the viewer's runs carry their name like everyone's (a file that leaves the page)."""
    me = owner() if mark_viewer else None
    names = store().student_names() if names is None else names
    you, unnamed, teacher = t("common.you"), t("common.unnamed_student"), t("common.teacher_owner")

    def name(run_owner: str | None) -> str:
        if me is not None and run_owner == me:
            return you
        if run_owner and run_owner.startswith("s-"):
            return names.get(run_owner) or unnamed
        return teacher if run_owner in (None, "", TEACHER) else run_owner      # a command-line run's owner
    return name