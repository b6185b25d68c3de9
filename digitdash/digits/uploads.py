"""Uploaded pictures read once: the Draw page reruns its script on every click, and each upload is
decoded and preprocessed once per server process, then kept by its content.

A picture is kept under the SHA-256 of its bytes: its gray picture alone (so a change of the
preprocessing options does not decode it again), and its digits under the digest and the options.
A picture that cannot be read is kept too, as its message. What is kept is bounded (MAX_ENTRIES
and MAX_BYTES of arrays, least recently used dropped first) and held here, in the engine, behind a
lock: a browser may send Streamlit's clear-cache message, and it never empties this one.

Pictures are read one at a time, all in one thread of the process: a large one holds up to
preprocess.MAX_BYTES of decoded pixels for well under a second, five uploads at once never hold
five of them, and the memory one reading leaves free is the next one's (each thread has its own
malloc arena: five sessions' threads decoding in turn grew the server by 400 MB, one thread by 80).
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from digitdash.digits import preprocess
from digitdash.i18n import Message

MAX_ENTRIES = 128                # pictures and digit lists kept
MAX_BYTES = 64_000_000           # bytes of arrays kept in all entries together

_lock = threading.Lock()                        # guards _kept
_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digitdash-uploads")   # one at a time
_kept: OrderedDict[tuple, tuple[object, int]] = OrderedDict()    # key -> (value, bytes), oldest first


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(data: bytes, threshold: str = "otsu", deskew: bool = False
         ) -> tuple[list[preprocess.Prepared], np.ndarray]:
    """The digits in a picture file (each with its steps) and the picture as gray, as
    preprocess.prepare_all(preprocess.decode(data)) gives them, computed once for these bytes and
    options. Raises preprocess.ImageError (each time, from one reading) for a picture that cannot be
    read. The arrays are shared between the sessions that send the same picture: read-only."""
    name = digest(data)
    key = ("digits", name, threshold, bool(deskew))
    found = _get(key)
    if found is None:
        found = _reader.submit(_kept_or_read, key, data, name, threshold, bool(deskew)).result()
    if isinstance(found, Message):
        raise preprocess.ImageError(found)
    return found


def _kept_or_read(key: tuple, data: bytes, name: str, threshold: str, deskew: bool):
    found = _get(key)                           # read for another session while this one waited
    if found is None:
        found = _read(data, name, threshold, deskew)
        _put(key, found)
    return found


def _read(data: bytes, name: str, threshold: str, deskew: bool):
    """(digits, picture), or the Message saying why the picture cannot be read."""
    picture = _get(("gray", name))
    if picture is None:
        try:
            picture = _frozen(preprocess.decode(data))
        except preprocess.ImageError as exc:
            picture = exc.message
        _put(("gray", name), picture)
    if isinstance(picture, Message):
        return picture
    try:
        digits = preprocess.prepare_all(picture, threshold=threshold, deskew=deskew)
    except preprocess.ImageError as exc:
        return exc.message
    for prepared in digits:
        _frozen(prepared.image)
        for _, step in prepared.steps:
            _frozen(step)
    return digits, picture


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _size(value) -> int:
    """Bytes of the distinct arrays in a kept value (steps shared between digits counted once)."""
    arrays: dict[int, np.ndarray] = {}
    if isinstance(value, np.ndarray):
        arrays[id(value)] = value
    elif isinstance(value, tuple):
        digits, picture = value
        arrays[id(picture)] = picture
        for prepared in digits:
            arrays[id(prepared.image)] = prepared.image
            arrays.update((id(step), step) for _, step in prepared.steps)
    return 256 + sum(a.nbytes for a in arrays.values())


def _get(key: tuple):
    with _lock:
        if key not in _kept:
            return None
        _kept.move_to_end(key)
        return _kept[key][0]


def _put(key: tuple, value) -> None:
    size = _size(value)
    with _lock:
        _kept.pop(key, None)
        if size <= MAX_BYTES:                   # a larger one is not kept: it is read again if sent again
            _kept[key] = (value, size)
        total = sum(s for _, s in _kept.values())
        while len(_kept) > MAX_ENTRIES or total > MAX_BYTES:
            _, (_, dropped) = _kept.popitem(last=False)
            total -= dropped


def clear() -> None:
    """Forget every picture (tests, and a server that wants its memory back)."""
    with _lock:
        _kept.clear()


def held() -> tuple[int, int]:
    """(entries, bytes) kept now."""
    with _lock:
        return len(_kept), sum(s for _, s in _kept.values())
