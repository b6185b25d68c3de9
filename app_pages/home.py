"""Home: what DigitDash is, a first run in three steps, the device, and every page."""
import streamlit as st

from app_pages import common
from digitdash import device

t = common.t
st.title(t("home.title"))
st.markdown(t("home.intro"))
left, right = st.columns([3, 2])
with left:
    st.subheader(t("home.first_run"))
    st.markdown(t("home.steps"))
with right:
    st.subheader(t("home.device_title"))
    st.metric(t("home.device_label"), device.badge(), help=t("common.device_help"))
    st.caption(t("home.device_note"))
st.subheader(t("home.pages"))
for path, icon, key in (("app_pages/train.py", ":material/model_training:", "train"),
                        ("app_pages/compare.py", ":material/compare:", "compare"),
                        ("app_pages/draw.py", ":material/draw:", "draw"),
                        ("app_pages/inside.py", ":material/neurology:", "inside"),
                        ("app_pages/data.py", ":material/dataset:", "data"),
                        ("app_pages/teacher.py", ":material/school:", "teacher")):
    st.page_link(path, label=t(f"nav.{key}"), icon=icon, help=t(f"home.{key}_help"))
    st.caption(t(f"home.{key}_what"))
