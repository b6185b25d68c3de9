"""The sidebar every page shares: language, the student's name, the dataset picker, the device badge."""
from __future__ import annotations

import streamlit as st

from app_pages.parts import student
from app_pages.parts.language import lang, language_ui, say, t
from digitdash.digits import datasets
from digitdash.learning import device
from digitdash.plan import limits
from digitdash.plan.config import DEFAULT_DATASET

DATASET_BOX = "dataset-choice"     # session state: the dataset box (a widget key); pages read it through dataset_name()


def sidebar() -> None:
    with st.sidebar:
        language_ui()
        st.markdown("### DigitDash")
        student.identity_ui()
        dataset_ui()
        st.caption(t("common.device", badge=device.badge(lang())), help=t("common.device_help"))


def dataset_ui() -> None:
    """The datasets the teacher offers and this server has, by name (no paths); a caption names the
    allowed ones the teacher can still add. A link may name one: ?dataset=NAME."""
    try:
        now = limits.load()
    except limits.LimitError as exc:
        st.error(say(exc.message))
        now = limits.Limits(folders={})
    offered, missing = now.offered_datasets(), now.missing_datasets()
    offered = offered or [DEFAULT_DATASET]     # nothing allowed is here: the pages still show the bundled digits
    asked = st.query_params.get("dataset")
    if asked is not None and DATASET_BOX not in st.session_state:
        try:
            st.session_state[DATASET_BOX] = datasets.student_choice(asked)
        except datasets.DatasetError as exc:
            st.warning(say(exc.message))
    if st.session_state.get(DATASET_BOX) not in offered:
        st.session_state[DATASET_BOX] = DEFAULT_DATASET if DEFAULT_DATASET in offered else offered[0]
    st.selectbox(t("common.dataset"), offered, key=DATASET_BOX, format_func=limits.display,
                 help=t("common.dataset_help"))
    if missing:
        st.caption(t("common.datasets_more", names=", ".join(missing)))


def dataset_name() -> str:
    return st.session_state.get(DATASET_BOX, DEFAULT_DATASET)
