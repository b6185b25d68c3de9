"""What every page shares: the sidebar (dataset, device badge), the store and the runner."""
from __future__ import annotations

import re
import uuid

import streamlit as st

from digitdash import datasets, device, paths
from digitdash.jobs import LocalRunner
from digitdash.store import Store

OTHER = "idx: or folder: path…"


@st.cache_resource
def _runner(home: str) -> LocalRunner:
    return LocalRunner(Store(home))


def runner() -> LocalRunner:
    """One store and one runner per server process (and DIGITDASH_HOME), shared by every session."""
    return _runner(str(paths.home()))


@st.cache_resource(show_spinner="Loading the dataset…")
def dataset(name: str) -> datasets.Dataset:
    """Decoded once per server process, whatever the number of sessions."""
    return datasets.load(name)


def store() -> Store:
    return runner().store


_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def plain(text: str) -> str:
    """User text (a run name) made safe for Markdown: shown as typed, never rendered as markup."""
    return _MARKUP.sub(r"\\\1", str(text))


def owner() -> str:
    """This browser session's id: runs it submits are its own."""
    if "owner" not in st.session_state:
        st.session_state["owner"] = uuid.uuid4().hex[:12]
    return st.session_state["owner"]


def sidebar() -> None:
    with st.sidebar:
        st.markdown("### DigitDash")
        choice = st.selectbox("Dataset", [*datasets.BUILTIN, OTHER], key="dataset-choice",
                              help="mnist-5k is bundled and works offline; mnist, fashion-mnist and "
                                   "cifar10 are downloaded once by Keras.")
        if choice == OTHER:
            st.text_input("Dataset path", key="dataset-path", placeholder="idx:/path/to/mnist or folder:/path",
                          help="idx:PATH is a folder of MNIST-format IDX files; folder:PATH has one "
                               "subfolder of images per class.")
        st.caption(f"Device: **{device.badge()}**")


def dataset_name() -> str:
    choice = st.session_state.get("dataset-choice", datasets.DEFAULT)
    if choice == OTHER:
        return (st.session_state.get("dataset-path") or "").strip()
    return choice
