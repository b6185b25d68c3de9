"""What a page says: catalogue text and engine messages in the session's language, and people's own
text (a run's name) shown exactly as typed."""
from __future__ import annotations

import streamlit as st

from digitdash import i18n
from digitdash.learning import device
from digitdash.text import markdown_literal

# Session-state keys used here only
LANGUAGE_BOX = "language"                # the language box (a widget key): "English" or "Español"
LANGUAGE_TO_KEEP = "language-cookie"     # the code just chosen, written to the browser's cookie on the next run


def lang() -> str:
    """This session's language code ("en" or "es")."""
    return i18n.CODES.get(st.session_state.get(LANGUAGE_BOX), i18n.DEFAULT)


def t(key: str, **params) -> str:
    """The interface text `key` in this session's language."""
    return i18n.t(key, lang(), **params)


def say(value) -> str:
    """An engine Message (error, run message, step name) in this session's language; plain text as is."""
    return i18n.say(value, lang())


def translated_columns(frame, prefix: str):
    """A table as this session's language says it: the column headers and the index's name (the
    report's "class") that have a catalogue entry `prefix.<header>`, and the cells that are words in
    English: a knob's value the catalogue names (lr_schedule "constant"), the device a run used."""
    code = lang()
    known = i18n.catalogue(code)

    def header(name):
        return name if name is None else known.get(f"{prefix}.{str(name).replace(' ', '_')}", name)
    if code != i18n.DEFAULT:
        frame = frame.copy()
        for i, column in enumerate(frame.columns):
            if column == "device":
                frame.isetitem(i, [device.said(v, code) if isinstance(v, str) else v for v in frame.iloc[:, i]])
            elif any(key.startswith(f"value.{column}.") for key in known):
                frame.isetitem(i, [i18n.say(i18n.knob_value(column, v), code) if isinstance(v, str) else v
                                   for v in frame.iloc[:, i]])
    frame = frame.rename(columns=header)
    return frame.rename_axis(index=[header(n) for n in frame.index.names])


def number(value, spec: str = ",") -> str:
    """A number as this session's language writes it: 4,000 in English, 4.000 in Spanish (`spec` is
    Python's format spec: ".1%" gives 97.5% / 97,5%)."""
    return i18n.number(value, lang(), spec)


def knob_choice(field: str):
    """A selectbox's format_func for a knob's values: the catalogue's word where it has one
    (lr_schedule "constant" is "constante" in Spanish), else the value as it is."""
    return lambda value: say(i18n.knob_value(field, value))


LANGUAGE_COOKIE = "digitdash_language"


def language_ui() -> None:
    """English or Spanish for the whole interface: the choice this browser made before (kept in a
    cookie, so it survives reloads), else Spanish when the browser asks for it."""
    if LANGUAGE_BOX not in st.session_state:
        kept = st.context.cookies.get(LANGUAGE_COOKIE)
        code = kept if kept in i18n.LANGUAGES else i18n.language_of(st.context.locale or
                                                                   st.context.headers.get("Accept-Language"))
        st.session_state[LANGUAGE_BOX] = i18n.LANGUAGES[code]
    st.selectbox(t("common.language"), list(i18n.LANGUAGES.values()), key=LANGUAGE_BOX, on_change=_keep,
                 help=t("common.language_help"))
    if LANGUAGE_TO_KEEP in st.session_state:      # said once, after a change: the browser keeps it a year
        code = st.session_state.pop(LANGUAGE_TO_KEEP)
        st.html(f"<script>document.cookie = '{LANGUAGE_COOKIE}={code}; path=/; max-age=31536000; SameSite=Strict';"
                "</script>", unsafe_allow_javascript=True)


def _keep() -> None:
    st.session_state[LANGUAGE_TO_KEEP] = lang()     # one of i18n.LANGUAGES' codes, never a browser's text


def plain(text: str) -> str:
    """User text (a run name) made safe for Markdown: shown as typed, never rendered as markup."""
    return markdown_literal(text)
