"""Worker processes: fresh interpreters over the store, each holding its slot's lock while it lives.

Workers are fresh interpreters (`python -m digitdash worker`), never forks: TensorFlow breaks
under fork. They are not multiprocessing's spawn children either, because Streamlit runs page
scripts as `__main__` and a spawn child re-imports `__main__`, which would run the app again.
A slot is a name (a local worker's number, or `ray` for the Ray dispatcher): worker-<slot>.lock in
the store's folder, with the holder's pid beside it in worker-<slot>.pid.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from digitdash import paths
from digitdash.runs.store import alive


def spawn_worker(home: Path, slot: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
    """`python -m digitdash worker ARGS` as a fresh interpreter over the store at `home`, its output
    in worker-<slot>.log there."""
    root = str(paths.SOURCE)
    env = {**os.environ, "DIGITDASH_HOME": str(home), **(env or {}),
           "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    with open(Path(home) / f"worker-{slot}.log", "ab") as log:      # the child keeps its own copy
        return subprocess.Popen([sys.executable, "-m", "digitdash", "worker", *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def lock_path(home: Path, slot: str) -> Path:
    return Path(home) / f"worker-{slot}.lock"


def slot_taken(home: Path, slot: str) -> bool:
    """A live worker holds the slot's lock. A dead one may hold it a moment longer (a zombie not
    yet reaped): its pid, written beside the lock, tells the two apart."""
    with open(lock_path(home, slot), "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                pid = int(lock_path(home, slot).with_suffix(".pid").read_text())
            except (OSError, ValueError):
                return True
            return alive(pid)
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


class SlotLock:
    """The lock this process holds on its slot while it serves it: no second worker takes the slot."""

    def __init__(self, home: Path, slot: str):
        self.path = lock_path(home, slot)
        self.file = open(self.path, "a")

    def acquire(self, wait_seconds: float) -> bool:
        """Take the slot, waiting up to wait_seconds for a dying holder to let go; then say whose it is
        beside the lock. False when another live worker keeps it."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)
        try:
            self.path.with_suffix(".pid").write_text(str(os.getpid()))
        except OSError:       # a full disk: the lock alone tells a live worker (see slot_taken)
            pass
        return True

    def release(self) -> None:
        fcntl.flock(self.file, fcntl.LOCK_UN)

    def close(self) -> None:
        self.file.close()
