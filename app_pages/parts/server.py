"""What one server process holds for every session: the run store and its runner, decoded datasets."""
from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import sys
import threading

import numpy as np
import streamlit as st

from app_pages.parts.language import say, t
from digitdash import i18n, paths
from digitdash.classroom import teacher_gate
from digitdash.digits import datasets
from digitdash.plan.config import DEFAULT_DATASET, ConfigError
from digitdash.reading import memo
from digitdash.runs.store import Store, StoreError
from digitdash.workers import choice
from digitdash.workers.runners import Runner


@st.cache_resource(show_spinner=False)
def _runner(home: str) -> Runner:
    store = Store(home)
    try:     # said in the server's console when the first page is drawn (scripts/start.sh says it before)
        base = f"http://localhost:{st.get_option('server.port')}"
        print(i18n.t("gate.console_link", hours=teacher_gate.HOURS, link=teacher_gate.link(base, store.home)),
              file=sys.stderr, flush=True)
    except OSError:      # a full disk: the key is made on the next try; the pages say what they can
        pass
    return choice.chosen(store)


def runner() -> Runner:
    """One store and one runner per server process (and DIGITDASH_HOME), shared by every session."""
    try:
        return _runner(str(paths.home()))
    except (StoreError, ConfigError) as exc:   # a store written by a newer DigitDash, a bad runner setting
        st.error(say(exc.message))
        st.stop()


def store() -> Store:
    return runner().store


_KEPT = memo.Kept(64)      # figures built from the store, shared by every session (pages are run anew each time)


def kept(key: tuple, build):
    """What `build` makes, kept per server process under `key` (which holds the store's change counters
    the caller read, so a change of the store is a new key) and shared by every session."""
    return _KEPT.get((str(paths.home()), *key), build)


def kept_file(key: tuple, build):
    """A download's content, kept like `kept` but apart from the figures (a CSV of a thousand runs is
    not small: a few filters' worth are kept, and never push the figures out)."""
    return _FILES.get((str(paths.home()), *key), build)


_FILES = memo.Kept(8)
_PNGS = memo.Kept(4096)    # small pictures (a digit each) as PNG files, by their pixels


def pngs(images) -> list[bytes]:
    """Each picture (gray or RGB: uint8, or floats from 0 to 1) as PNG bytes, encoded once per server
    process: a gallery of digits redrawn on every click sends files already made instead of encoding
    each again (and Streamlit, given a gray array, would make it a JPEG on every rerun)."""
    out = []
    for image in images:
        image = np.asarray(image)
        if image.dtype != np.uint8:
            image = np.clip(image, 0.0, 1.0) * 255 if image.dtype.kind == "f" else np.clip(image, 0, 255)
        image = np.ascontiguousarray(image, dtype=np.uint8)
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        key = (image.shape, hashlib.blake2b(image.tobytes(), digest_size=16).digest())
        out.append(_PNGS.get(key, lambda: _png(image)))
    return out


def image(where, pictures, **kwargs) -> None:
    """`where.image` for one picture or a list of them, given as PNG files made once (pngs)."""
    one = isinstance(pictures, np.ndarray) and pictures.ndim <= 3 and not (pictures.ndim == 3 and pictures.shape[-1] > 4)
    files = pngs([pictures] if one else list(pictures))
    where.image(files[0] if one else files, output_format="PNG", **kwargs)


def _png(image: np.ndarray) -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def thumbnail(path, width: int) -> bytes:
    """A picture file made `width` px wide (or left narrower), as PNG, once per server process."""
    def build() -> bytes:
        from PIL import Image
        with Image.open(path) as picture:
            picture.thumbnail((width, width * 4))
            return _png(np.asarray(picture.convert("RGB")))
    return _PNGS.get(("file", str(path), width), build)


def saving_ui() -> None:
    """One line when new work cannot be saved (the disk full, the store's folder read-only): the page
    still shows everything stored, and nothing stored is lost."""
    reason = store().unwritable()
    if reason:
        st.warning(t("store.read_only", reason=reason), icon=":material/save:")


@st.cache_resource(show_spinner=False)
def dataset(name: str) -> datasets.Dataset:
    """Decoded once per server process, whatever the number of sessions."""
    return datasets.load(name)


@st.cache_resource(show_spinner=False, max_entries=16)
def dataset_facts(name: str) -> dict:
    """The Data page's figures, computed once per server process and dataset."""
    return datasets.describe(dataset(name))


def load_dataset(name: str) -> datasets.Dataset:
    """The dataset, decoded once per process, with a spinner in this session's language."""
    with st.spinner(t("common.loading_dataset")):
        return dataset(name)


def settle_heap() -> None:
    """What the process holds for as long as it serves (the libraries the pages import, a lesson's
    parsed runs) collected once, then left out of Python's later garbage collections (gc.freeze).
    Each full collection walks every object still tracked: with a thousand runs parsed, a student's
    page paid for them on every render (Compare's first visit 0.32 s at 1,000 runs against 0.22 s at
    300 in tools/lesson.py's tour; 0.22 s at both once settled). Objects frozen are still freed
    when nothing refers to them (runs parsed again, figures dropped); only cycles among them stay
    for good (what the first visitors' pages held then: not measured apart; the lesson's server
    memory stayed 366-395 MB). Once per process: a browser that clears the caches over and over runs
    the warm-up again, never a collection of the whole heap again. Runs parsed after it (a lesson
    that grows while the server runs) are walked as before: it helps most a server started on a
    store that already holds them (the next morning's, or one restarted)."""
    with _SETTLING:
        if _SETTLED:
            return
        gc.collect()
        gc.freeze()
        _SETTLED.append(True)


_SETTLING, _SETTLED = threading.Lock(), []


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per server process, in the background, as the first student arrives: import what the
    pages draw tables and figures with, decode the default dataset and import what Inside and Data
    compute with, and read the store's runs and build Compare's table of them (both kept per process
    until the store changes), so that nobody's first visit waits for it; then settle_heap."""
    runs_kept = store()

    def work() -> None:
        try:
            import pandas  # noqa: F401  (the tables of Train, Compare, Inside and Teacher)
            import plotly.graph_objects  # noqa: F401  (every page's figures)
            with contextlib.suppress(Exception):     # the store unreadable: the pages say so; the rest goes on
                from digitdash.reading import compare
                # a lesson's end: a thousand runs parsed, and Compare's table of them built, before anyone asks
                version = runs_kept.changes()     # read before the runs, as Compare does
                compare.table(runs_kept, runs_kept.runs(), predict=False, version=version)
            datasets.load(DEFAULT_DATASET)
            import scipy.special  # noqa: F401  (Inside's activations)
            import sklearn.decomposition  # noqa: F401  (Inside's map)
        except Exception:    # the page that needs it says what went wrong, in the student's language
            pass
        finally:
            settle_heap()
    thread = threading.Thread(target=work, name="digitdash-warm-up", daemon=True)
    thread.start()
    return thread
