"""What every page shares: the sidebar (language, dataset, device badge), the store and the runner."""
from __future__ import annotations

import re
import sys

import streamlit as st

from digitdash import datasets, device, i18n, identity, limits, paths
from digitdash.config import KERAS
from digitdash.jobs import LocalRunner
from digitdash.store import Store, StoreError


@st.cache_resource
def _runner(home: str) -> LocalRunner:
    if teacher_password() is None:    # said once, in the server's console, at first start
        print(i18n.t("teacher.console_unset"), file=sys.stderr, flush=True)
    return LocalRunner(Store(home))


@st.cache_resource
def password_gate() -> identity.PasswordGate:
    """One gate per server process: wrong tries from any session make every next try wait longer."""
    return identity.PasswordGate()


def runner() -> LocalRunner:
    """One store and one runner per server process (and DIGITDASH_HOME), shared by every session."""
    try:
        return _runner(str(paths.home()))
    except StoreError as exc:     # e.g. a store written by a newer DigitDash: one message, no traceback
        st.error(say(exc.message))
        st.stop()


@st.cache_resource(show_spinner=False)
def dataset(name: str) -> datasets.Dataset:
    """Decoded once per server process, whatever the number of sessions."""
    return datasets.load(name)


@st.cache_resource(show_spinner=False, max_entries=16)
def dataset_facts(name: str) -> dict:
    """The Data page's figures, computed once per server process and dataset."""
    return datasets.describe(dataset(name))


def store() -> Store:
    return runner().store


_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def plain(text: str) -> str:
    """User text (a run name) made safe for Markdown: shown as typed, never rendered as markup."""
    return _MARKUP.sub(r"\\\1", str(text))


def owner() -> str:
    """This browser's student id: runs it submits are its own. The id comes from the signed token
    the browser keeps in a cookie, so it survives reloads, closed tabs and server restarts; a
    browser without a valid token gets a new id and token (stored by identity_ui)."""
    if "owner" not in st.session_state:
        student = identity.student_of(st.context.cookies.get(identity.COOKIE))
        if student is None:
            student, st.session_state["new-token"] = identity.new_student()
        st.session_state["owner"] = student
    return st.session_state["owner"]


def identity_ui() -> None:
    """Store a new token in the browser, and the name the student goes by (typed once)."""
    me = owner()
    token = st.session_state.pop("new-token", None)
    if token:
        st.html(identity.cookie_script(token), unsafe_allow_javascript=True)
    if "student-name" not in st.session_state:
        st.session_state["student-name"] = store().student_names().get(me, "")
    st.text_input(t("common.your_name"), key="student-name", max_chars=40, on_change=_save_name,
                  placeholder=t("common.your_name_placeholder"), help=t("common.your_name_help"))


def _save_name() -> None:
    try:
        st.session_state["student-name"] = store().set_student_name(owner(), st.session_state["student-name"])
    except StoreError as exc:
        st.session_state["name-problem"] = exc.message


def owner_name(run_owner: str | None, names: dict[str, str] | None = None) -> str:
    """Who a run belongs to, as people read it: "you", a student's name, or the command-line owner."""
    if run_owner == owner():
        return t("common.you")
    names = store().student_names() if names is None else names
    if run_owner and run_owner.startswith("s-"):
        return names.get(run_owner) or t("common.unnamed_student")
    return run_owner or "teacher"


def lang() -> str:
    """This session's language code ("en" or "es")."""
    return i18n.CODES.get(st.session_state.get("language"), i18n.DEFAULT)


def t(key: str, **params) -> str:
    """The interface text `key` in this session's language."""
    return i18n.t(key, lang(), **params)


def say(value) -> str:
    """An engine Message (error, run message, step name) in this session's language; plain text as is."""
    return i18n.say(value, lang())


def translated_columns(frame, prefix: str):
    """A table whose column headers have a catalogue entry `prefix.<header>` shows them translated."""
    known = i18n.catalogue(lang())
    return frame.rename(columns=lambda c: known.get(f"{prefix}.{str(c).replace(' ', '_')}", c))


def language_ui() -> None:
    """English or Spanish for the whole interface; Spanish preselected when the browser asks for it."""
    if "language" not in st.session_state:
        asked = st.context.locale or st.context.headers.get("Accept-Language")
        st.session_state["language"] = i18n.LANGUAGES[i18n.language_of(asked)]
    st.selectbox(t("common.language"), list(i18n.LANGUAGES.values()), key="language", help=t("common.language_help"))


def sidebar() -> None:
    with st.sidebar:
        language_ui()
        st.markdown("### DigitDash")
        identity_ui()
        if "name-problem" in st.session_state:
            st.error(say(st.session_state.pop("name-problem")))
        dataset_ui()
        st.caption(t("common.device", badge=device.badge()), help=t("common.device_help"))


def dataset_ui() -> None:
    """The datasets the teacher offers, by name (no paths). A link may name one: ?dataset=NAME."""
    try:
        offered = limits.load().offered_datasets()
    except limits.LimitError as exc:
        st.error(say(exc.message))
        offered = list(datasets.BUILTIN)
    asked = st.query_params.get("dataset")
    if asked is not None and "dataset-choice" not in st.session_state:
        try:
            st.session_state["dataset-choice"] = datasets.student_choice(asked)
        except datasets.DatasetError as exc:
            st.warning(say(exc.message))
    if st.session_state.get("dataset-choice") not in offered:
        st.session_state["dataset-choice"] = datasets.DEFAULT if datasets.DEFAULT in offered else offered[0]
    st.selectbox(t("common.dataset"), offered, key="dataset-choice", format_func=limits.display,
                 help=t("common.dataset_help"))


def load_dataset(name: str) -> datasets.Dataset:
    """The dataset, decoded once per process, with a spinner in this session's language."""
    with st.spinner(t("common.loading_dataset")):
        return dataset(name)


def dataset_name() -> str:
    return st.session_state.get("dataset-choice", datasets.DEFAULT)


def trained_runs(empty_key: str, keras_only: bool = False) -> dict[str, dict]:
    """Finished runs that have a model, best test accuracy first (by id). With none, the page says
    `empty_key`, points to Train and stops."""
    runs = [r for r in store().runs(("done", "stopped")) if store().model_path(r["id"])
            and (not keras_only or r["config"].architecture in KERAS)]
    if not runs:
        st.info(t(empty_key))
        st.page_link("app_pages/train.py", label=t("compare.to_train"), icon=":material/model_training:")
        st.stop()
    runs.sort(key=lambda r: r["results"].get("test_accuracy") or 0, reverse=True)
    return {r["id"]: r for r in runs}


def run_label(run: dict) -> str:
    return t("draw.model_label", name=run["name"], acc=run["results"].get("test_accuracy") or 0)


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
