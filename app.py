"""DigitDash: the entrypoint builds the navigation and the shared sidebar, nothing else."""
import streamlit as st

from app_pages import common
from digitdash.i18n import Problem

st.set_page_config(page_title="DigitDash", page_icon=":material/draw:", layout="wide")
try:
    common.sidebar()
    pages = [
        st.Page("app_pages/home.py", title=common.t("nav.home"), icon=":material/home:", default=True),
        st.Page("app_pages/train.py", title=common.t("nav.train"), icon=":material/model_training:", url_path="train"),
        st.Page("app_pages/compare.py", title=common.t("nav.compare"), icon=":material/compare:", url_path="compare"),
        st.Page("app_pages/draw.py", title=common.t("nav.draw"), icon=":material/draw:", url_path="draw"),
        st.Page("app_pages/inside.py", title=common.t("nav.inside"), icon=":material/neurology:", url_path="inside"),
        st.Page("app_pages/data.py", title=common.t("nav.data"), icon=":material/dataset:", url_path="data"),
        st.Page("app_pages/teacher.py", title=common.t("nav.teacher"), icon=":material/school:", url_path="teacher"),
    ]
    st.navigation(pages).run()
except Problem as exc:    # the store unwritable (disk full), a limits file broken: one message, no traceback
    st.error(common.say(exc.message))
