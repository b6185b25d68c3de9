"""What a browser may ask of the server beyond running pages. Streamlit answers a `clear_cache`
message (its menu's "Clear cache", which this app does not offer; a script can still send it) by
emptying every cached resource of the process for every user: the run store's runner, the decoded
datasets, the loaded models. Here it clears only the asking browser's own session state."""
from __future__ import annotations

import logging

from streamlit.runtime.app_session import AppSession

_LOG = logging.getLogger("digitdash")


def _clear_own_state_only(session: AppSession) -> None:
    _LOG.warning("A browser asked to clear the server's caches; only its own session state was cleared.")
    session._session_state.clear()


def install() -> None:
    """Once per process (idempotent): every session's clear-cache message clears only its own state."""
    AppSession._handle_clear_cache_request = _clear_own_state_only
