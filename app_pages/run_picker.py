"""Picking a trained run on the pages that use one (Draw, Inside)."""
from __future__ import annotations

import streamlit as st

from app_pages import navigation
from app_pages.language import t
from app_pages.server import store
from digitdash import kinds


def trained_runs(empty_key: str, keras_only: bool = False) -> dict[str, dict]:
    """Finished runs that have a model, best test accuracy first (by id). With none, the page says
    `empty_key`, points to Train and stops."""
    runs = [r for r in store().runs(("done", "stopped")) if store().model_path(r["id"])
            and (not keras_only or kinds.of(r["config"].architecture).keras)]
    if not runs:
        st.info(t(empty_key))
        navigation.link("train", label=t("compare.to_train"))
        st.stop()
    runs.sort(key=lambda r: r["results"].get("test_accuracy") or 0, reverse=True)
    return {r["id"]: r for r in runs}


def run_label(run: dict) -> str:
    return t("draw.model_label", name=run["name"], acc=run["results"].get("test_accuracy") or 0)
