"""'Your data fixes your model', as Compare and the Teacher page show it: one network trained without
and with the class's drawings, and what the drawings changed (digitdash.reading.handwriting.data_effect)."""
from __future__ import annotations

import streamlit as st

from app_pages.parts import language, student
from digitdash.reading import handwriting

t = language.t


def data_effect_ui(store, runs: list[dict], key: str) -> None:
    """The pairs' table under its heading, or how to make one; `key` names the table's widget."""
    st.subheader(t("compare.data_title"))
    pairs = handwriting.data_effect(store, runs)
    if not pairs:
        st.caption(t("compare.data_none"))
        return
    name = student.namer(store.student_names())
    rows = [{t("compare.data_without"): f"{p['without']['name']} ({name(p['without']['owner'])})",
             t("compare.data_with"): f"{p['with']['name']} ({name(p['with']['owner'])})",
             t("compare.data_before"): round(p["before"], 3), t("compare.data_after"): round(p["after"], 3),
             t("compare.data_gain"): f"{p['gain']:+.3f}", t("compare.data_drawings"): p["drawings"]}
            for p in pairs]
    st.caption(t("compare.data_caption"))
    st.dataframe(rows, hide_index=True, width="stretch", key=key)
