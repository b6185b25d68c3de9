"""Who is the teacher: a browser that opened the teacher's link, or typed the teacher's password.

The link carries a 256-bit key kept in $DIGITDASH_HOME/teacher.key (readable by the server's user
only; the server prints the link when it starts, as Jupyter prints its token): nothing a script can
guess. The optional password (`teacher_password` in .streamlit/secrets.toml) is for a teacher who
would rather type: its wrong tries are counted in the store (not in any cache a browser can clear)
per browser, so a student who guesses waits longer and longer alone, and the class as a whole has
PASSWORD_BUDGET wrong tries an hour, after which the password is not checked until the hour has
passed: at most that many guesses an hour from any number of browsers, and the link still works,
so no student can lock the teacher out.

Rights are held by the browser's signed student id (identity.py) in the store until they expire
(HOURS) or the teacher signs out: they survive reloads and server restarts, and `teacher-link --new`
ends them everywhere.
"""
from __future__ import annotations

import hmac
import secrets
import time
from pathlib import Path

from digitdash import paths
from digitdash.i18n import Problem

HOURS = 12                 # how long a browser keeps teacher rights
PASSWORD_BUDGET = 20       # wrong passwords the whole class may type in an hour
MAX_WAIT = 300.0           # a browser's longest wait between two password tries
KEY_FILE = "teacher.key"
clock = time.time          # the gate's clock (tests move it)


class GateError(Problem):
    """A teacher link or password that does not unlock; the message says what to do."""


def key(home: Path | None = None, new: bool = False) -> str:
    """The key of the teacher's link, made once per store (or anew: every teacher signed out)."""
    path = (home or paths.home()) / KEY_FILE
    if not new:
        try:
            value = path.read_text().strip()
            if len(value) >= 32:
                return value
        except OSError:
            pass
    value = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    paths.write_atomic(path, value, mode=0o600)
    return value


def link(base_url: str = "http://localhost:8501", home: Path | None = None) -> str:
    return f"{base_url.rstrip('/')}/teacher?key={key(home)}"


def rotate(store) -> str:
    """A new key: the old link stops working and every browser's teacher rights end."""
    value = key(store.home, new=True)
    store.revoke_teacher()
    return value


def open_with_key(store, student: str, typed: str, now: float | None = None) -> float:
    """Teacher rights for `student`'s browser when `typed` is the link's key; returns when they end."""
    now = clock() if now is None else now
    if not hmac.compare_digest(str(typed).encode(), key(store.home).encode()):
        raise GateError("gate.bad_link")
    expires = now + HOURS * 3600
    store.grant_teacher(student, expires)
    return expires


def try_password(store, student: str, typed: str, expected: str | None,
                 now: float | None = None) -> tuple[float | None, float]:
    """(when rights end, 0) when `typed` is the password; else (None, seconds before this browser's
    next try is heard). After n wrong tries in a row a browser waits 2**(n-1) s (at most MAX_WAIT),
    right or wrong, without the password being checked. Past the class's budget of wrong tries in
    the last hour, GateError("gate.closed") and nothing is checked."""
    now = clock() if now is None else now
    if not expected:
        return None, 0.0
    streak, locked_until, recent = store.gate_state(student, since=now - 3600)
    if now < locked_until:
        return None, locked_until - now
    if recent >= PASSWORD_BUDGET:
        raise GateError("gate.closed", minutes=60)
    if hmac.compare_digest(str(typed).encode(), str(expected).encode()):
        expires = now + HOURS * 3600
        store.grant_teacher(student, expires)
        return expires, 0.0
    wait = min(2.0 ** streak, MAX_WAIT)
    store.gate_wrong(student, streak + 1, now + wait, now)
    return None, wait


def until(store, student: str | None, now: float | None = None) -> float | None:
    """When `student`'s teacher rights end; None when the browser holds none (or they have ended)."""
    if not student:
        return None
    expires = store.teacher_until(student)
    now = clock() if now is None else now
    return expires if expires is not None and expires > now else None


def sign_out(store, student: str) -> None:
    store.revoke_teacher(student)
