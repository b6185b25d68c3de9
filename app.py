"""DigitDash: the entrypoint builds the navigation and the shared sidebar, nothing else."""
import logging

import streamlit as st

from app_pages.parts import language, navigation, server, server_guard, sidebar
from digitdash.i18n import Problem

server_guard.install()
st.set_page_config(page_title="DigitDash", page_icon=":material/draw:", layout="wide")
try:
    with server.store().request():     # one connection to the store for the whole render
        sidebar.sidebar()
        server.saving_ui()        # once, on every page, when new work cannot be saved (a full disk)
        st.navigation(navigation.st_pages()).run()
    server.warm_up()          # after the first page is drawn: the first visitor does not wait for it
except Problem as exc:    # the store unwritable (disk full), a limits file broken: one message, no traceback
    st.error(language.say(exc.message))
except Exception:         # a bug, or a message no page sends (a crafted widget value): the log has the details
    logging.getLogger("digitdash").exception("A page failed")
    st.error(language.t("common.page_failed"))
