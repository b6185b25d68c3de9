"""Download a Keras run as a Jupyter notebook or a plain script (digitdash.learning.export), in the session's
language: on Train for the finished run, on Compare for the one selected."""
import streamlit as st

from app_pages.parts import language, server
from digitdash.learning import controls, export
from digitdash.plan import kinds

t = language.t


def export_ui(run: dict, prefix: str, where=st) -> None:
    """Two download buttons (keys `<prefix>-notebook`, `<prefix>-script`); nothing for a baseline."""
    if not kinds.of(run["config"].architecture).keras:
        return
    lang = language.lang()
    changes = controls.changes(server.store(), run["id"])      # a new rate while it trained is trained again
    a, b = where.columns(2)
    a.download_button(t("export.download_notebook"), export.notebook(run, lang, changes=changes),
                      export.file_name(run, ".ipynb"),
                      "application/x-ipynb+json", key=f"{prefix}-notebook", help=t("export.download_help"),
                      icon=":material/code:")
    b.download_button(t("export.download_script"), export.script(run, lang, changes=changes),
                      export.file_name(run, ".py"),
                      "text/x-python", key=f"{prefix}-script", help=t("export.download_help"), icon=":material/code:")
