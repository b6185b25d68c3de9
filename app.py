"""DigitDash: the entrypoint builds the navigation and the shared sidebar, nothing else."""
import streamlit as st

from app_pages import language, navigation, server, sidebar
from digitdash.i18n import Problem

st.set_page_config(page_title="DigitDash", page_icon=":material/draw:", layout="wide")
try:
    sidebar.sidebar()
    st.navigation(navigation.st_pages()).run()
    server.warm_up()          # after the first page is drawn: the first visitor does not wait for it
except Problem as exc:    # the store unwritable (disk full), a limits file broken: one message, no traceback
    st.error(language.say(exc.message))
