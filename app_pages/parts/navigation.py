"""The app's pages, in one place: the navigation, Home's list and every link between pages read it."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app_pages.parts.language import t


@dataclass(frozen=True)
class PageInfo:
    file: str
    icon: str
    url_path: str


PAGES: dict[str, PageInfo] = {
    "home": PageInfo("app_pages/home.py", ":material/home:", ""),
    "train": PageInfo("app_pages/train.py", ":material/model_training:", "train"),
    "compare": PageInfo("app_pages/compare.py", ":material/compare:", "compare"),
    "draw": PageInfo("app_pages/draw.py", ":material/draw:", "draw"),
    "inside": PageInfo("app_pages/inside.py", ":material/neurology:", "inside"),
    "data": PageInfo("app_pages/data.py", ":material/dataset:", "data"),
    "teacher": PageInfo("app_pages/teacher.py", ":material/school:", "teacher"),
}


def st_pages() -> list:
    """The st.Page list for st.navigation, titled in the session's language (Home first, the default)."""
    return [st.Page(p.file, title=t(f"nav.{key}"), icon=p.icon, default=True) if key == "home" else
            st.Page(p.file, title=t(f"nav.{key}"), icon=p.icon, url_path=p.url_path)
            for key, p in PAGES.items()]


def link(key: str, label: str | None = None, where=st, **kwargs) -> None:
    """A link to page `key` (in `where`: st, a column, a container), labelled with its name unless told."""
    page = PAGES[key]
    where.page_link(page.file, label=label or t(f"nav.{key}"), icon=page.icon, **kwargs)


def go(key: str) -> None:
    """Switch this session to page `key`."""
    st.switch_page(PAGES[key].file)
