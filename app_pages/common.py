"""What every page shares: the sidebar (language, dataset, device badge), the store and the runner."""
from __future__ import annotations

import hmac
import re
import uuid

import streamlit as st

from digitdash import datasets, device, i18n, paths
from digitdash.config import KERAS
from digitdash.jobs import LocalRunner
from digitdash.store import Store, StoreError

OTHER = "other"   # the dataset choice that opens a path box


@st.cache_resource
def _runner(home: str) -> LocalRunner:
    return LocalRunner(Store(home))


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
    """This browser session's id: runs it submits are its own."""
    if "owner" not in st.session_state:
        st.session_state["owner"] = uuid.uuid4().hex[:12]
    return st.session_state["owner"]


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
        choice = st.selectbox(t("common.dataset"), [*datasets.BUILTIN, OTHER], key="dataset-choice",
                              format_func=lambda c: t("common.dataset_other") if c == OTHER else c,
                              help=t("common.dataset_help"))
        if choice == OTHER:
            st.text_input(t("common.dataset_path"), key="dataset-path", placeholder=t("common.dataset_path_placeholder"),
                          help=t("common.dataset_path_help"))
        st.caption(t("common.device", badge=device.badge()), help=t("common.device_help"))


def load_dataset(name: str) -> datasets.Dataset:
    """The dataset, decoded once per process, with a spinner in this session's language."""
    with st.spinner(t("common.loading_dataset")):
        return dataset(name)


def dataset_name() -> str:
    choice = st.session_state.get("dataset-choice", datasets.DEFAULT)
    if choice == OTHER:
        return (st.session_state.get("dataset-path") or "").strip()
    return choice


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


def unlock_teacher(typed: str) -> bool:
    """True (and teacher rights for this session) when `typed` is the teacher's password."""
    expected = teacher_password()
    ok = bool(expected) and hmac.compare_digest(str(typed).encode(), expected.encode())
    if ok:
        st.session_state["teacher"] = True
    return ok


def is_teacher() -> bool:
    return bool(st.session_state.get("teacher")) and teacher_password() is not None
