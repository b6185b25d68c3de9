"""Home: what DigitDash is, a first run in three steps, the device, and every page."""
import streamlit as st

from app_pages.parts import language, navigation
from digitdash.learning import device

t = language.t
st.title(t("home.title"))
st.markdown(t("home.intro"))
left, right = st.columns([3, 2])
with left:
    st.subheader(t("home.first_run"))
    st.markdown(t("home.steps"))
with right:
    st.subheader(t("home.device_title"))
    st.metric(t("home.device_label"), device.badge(language.lang()), help=t("common.device_help"))
    st.caption(t("home.device_note"))
st.subheader(t("home.pages"))
for key in navigation.PAGES:
    if key != "home":
        navigation.link(key, help=t(f"home.{key}_help"))
        st.caption(t(f"home.{key}_what"))
