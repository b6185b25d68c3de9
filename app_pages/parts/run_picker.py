"""What Draw and Inside share: the trained runs to pick from, and what a student chose and drew, kept
for this browser across pages and reloads.

A page switch drops a widget's value and a reload drops the whole session, so the models chosen on
Draw and the latest drawing (session_keys.INSIDE_DRAWING, which Inside offers) are also kept in
cookies, as the language is (app_pages/parts/language.py): per browser, like the student id itself, with
nothing written on the server. What a cookie holds is checked before use: run ids that still exist,
a drawing of exactly 28x28 pixels."""
from __future__ import annotations

import base64
import binascii
import re
import zlib

import numpy as np
import streamlit as st

from app_pages.parts import language, navigation
from app_pages.parts.language import t
from app_pages.parts.server import store
from app_pages.parts.session_keys import INSIDE_DRAWING
from digitdash import i18n, text
from digitdash.plan import kinds
from digitdash.runs.store import TRAINED

MODELS_COOKIE = "digitdash_draw_models"
DRAWING_COOKIE = "digitdash_drawing"
COOKIE_AGE = 30 * 24 * 3600                  # seconds: a month of lessons
DRAWING_SHAPE = (28, 28)
_COOKIE_TEXT = re.compile(r"[A-Za-z0-9_,=-]{1,3000}")    # run ids, commas and base64url: nothing else is read
# Session-state keys used here only (a models box's own choice is kept under "<its key>-kept")
DRAWING_KEPT = "drawing-kept"            # the cookie text of the drawing last kept (written again only on a change)
COOKIES_TO_WRITE = "cookies-to-write"    # cookie name -> value, written by cookies_ui at the end of the run


def trained_runs(empty_key: str, keras_only: bool = False, stop: bool = True) -> dict[str, dict]:
    """Finished runs that have a model, best test accuracy first (by id). With none, the page says
    `empty_key`, points to Train and stops (`stop=False`: says nothing and goes on)."""
    runs_store = store()
    runs = [r for r in runs_store.runs(TRAINED) if (not keras_only or kinds.of(r["config"].architecture).keras)
            and runs_store.model_path(r["id"])]
    if not runs and stop:
        st.info(t(empty_key))
        navigation.link("train", label=t("compare.to_train"))
        st.stop()
    runs.sort(key=lambda r: r["results"].get("test_accuracy") or 0, reverse=True)
    return {r["id"]: r for r in runs}


def run_labels(by_id: dict[str, dict]) -> dict[str, str]:
    """Each run's label in the model boxes ("name (test accuracy)"), by id; labels that would read the
    same (a run named like another, or like the reference) say their id too, so each can be picked."""
    lang = language.lang()
    return text.told_apart({i: i18n.t("draw.model_label", lang, name=r["name"], acc=r["results"].get("test_accuracy") or 0)
                            for i, r in by_id.items()})


def restore_models(key: str, by_id: dict[str, dict]) -> None:
    """Before the multiselect `key` is drawn: its value is what this student chose last (this session,
    else this browser before a reload) among the runs that still exist, else the best run."""
    if key in st.session_state:               # the widget's own value: only runs that still exist
        st.session_state[key] = [i for i in st.session_state[key] if i in by_id]
        return
    kept = st.session_state.get(_kept_key(key))
    if kept is None:
        kept = _cookie(MODELS_COOKIE).split(",")
    st.session_state[key] = [i for i in dict.fromkeys(kept) if i in by_id] or [next(iter(by_id))]


def keep_models(key: str, chosen: list[str]) -> None:
    """Remember the runs chosen in multiselect `key` (after it is drawn) for other pages and reloads."""
    if chosen != st.session_state.get(_kept_key(key)):
        st.session_state[_kept_key(key)] = list(chosen)
        _write(MODELS_COOKIE, ",".join(chosen))


def keep_drawing(image: np.ndarray) -> None:
    """The latest digit drawn on Draw (28x28, white on black): Inside offers it, after a reload too."""
    st.session_state[INSIDE_DRAWING] = image
    value = base64.urlsafe_b64encode(zlib.compress(np.ascontiguousarray(image, np.uint8).tobytes(), 9)).decode()
    if value != st.session_state.get(DRAWING_KEPT):
        st.session_state[DRAWING_KEPT] = value
        _write(DRAWING_COOKIE, value)


def latest_drawing() -> np.ndarray | None:
    """The digit Inside offers (session_keys.INSIDE_DRAWING): the latest one drawn on Draw or sent
    from it with Look inside, else, after a reload, the latest drawing this browser kept."""
    if INSIDE_DRAWING not in st.session_state:
        drawing = _drawing(_cookie(DRAWING_COOKIE))
        if drawing is not None:
            st.session_state[INSIDE_DRAWING] = drawing
            st.session_state[DRAWING_KEPT] = _cookie(DRAWING_COOKIE)
    return st.session_state.get(INSIDE_DRAWING)


def cookies_ui() -> None:
    """Store in the browser what keep_models and keep_drawing remembered on this run (a page calls it
    last: it draws an empty element)."""
    pending = st.session_state.pop(COOKIES_TO_WRITE, {})
    if pending:
        script = "".join(f"document.cookie = '{name}={value}; path=/; max-age={COOKIE_AGE}; SameSite=Strict';"
                         for name, value in pending.items())
        st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def _kept_key(key: str) -> str:
    """Where the runs chosen in the models box `key` are kept for other pages (the box's own value is not)."""
    return f"{key}-kept"


def _write(name: str, value: str) -> None:
    if _COOKIE_TEXT.fullmatch(value) or value == "":
        st.session_state.setdefault(COOKIES_TO_WRITE, {})[name] = value


def _cookie(name: str) -> str:
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) and _COOKIE_TEXT.fullmatch(value) else ""


def _drawing(value: str) -> np.ndarray | None:
    """A drawing kept in a cookie, or None for anything that is not one."""
    if not value:
        return None
    try:
        inflate = zlib.decompressobj()
        raw = inflate.decompress(base64.urlsafe_b64decode(value), DRAWING_SHAPE[0] * DRAWING_SHAPE[1] + 1)
    except (binascii.Error, ValueError, zlib.error):
        return None
    if not inflate.eof or len(raw) != DRAWING_SHAPE[0] * DRAWING_SHAPE[1]:
        return None
    return np.frombuffer(raw, np.uint8).reshape(DRAWING_SHAPE).copy()
