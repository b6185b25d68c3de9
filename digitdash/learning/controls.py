"""Knobs that move while a run learns: pause, resume, and a new learning rate from the next batch.

The page asks (`ask`: a row in the store's `changes` table, and a touch of the run's `controls` file
so that the worker notices with one stat per batch); the worker applies it and records the step and
epoch where it took effect (`applied`); the live curves mark each change, and the stored epochs
carry the learning rate they ran at. A pause holds a worker, so a run's pauses end by themselves
once they add up to PAUSE_MAX_SECONDS (recorded as a resume by the timer), and a run takes at most
MAX_CHANGES changes. The rows are kept by the store (Store.ask_change and the methods beside it);
the rules are here.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from digitdash.i18n import Message, Problem
from digitdash.plan import kinds
from digitdash.plan.config import BOUNDS, ConfigError

if TYPE_CHECKING:      # learning/ is below runs/: the store is only named here, never imported
    from digitdash.runs.store import Store

KINDS = ("pause", "resume", "lr")
PAUSE_MAX_SECONDS = 120  # all of a run's pauses together
MAX_CHANGES = 40         # changes one run takes (each is kept and marked on its curves)
TIMER = "timer"          # who resumed a pause that ran out


class ControlError(Problem):
    """A change the run cannot take now; the message says why."""


def ask(store: Store, run_id: str, kind: str, value: float | None = None, by: str | None = None,
        teacher: bool = False) -> int:
    """Ask a running run for a change; returns its number. Only the owner (or the teacher), only a
    running Keras run, a learning rate only within the form's bounds and without a schedule."""
    run = store.owned(run_id, by, teacher)
    config = run["config"]
    if kind not in KINDS:
        raise ControlError("control.kind", kind=kind)
    if run["status"] != "running":
        raise ControlError("control.not_running", status=run["status"])
    if not kinds.of(config.architecture).keras:
        raise ControlError("control.not_keras")
    if kind == "lr":
        if config.lr_schedule != "constant":
            raise ControlError("control.schedule", schedule=config.lr_schedule)
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = float("nan")
        bound = BOUNDS["learning_rate"]
        if not (math.isfinite(value) and bound.low < value <= bound.high):
            raise ConfigError("learning_rate", value, Message("control.lr_allowed", most=BOUNDS["learning_rate"].high))
    seq = store.ask_change(run_id, kind, value, by, MAX_CHANGES)
    if seq is None:
        raise ControlError("control.too_many", most=MAX_CHANGES)
    signal_file(store, run_id).touch()
    return seq


def signal_file(store: Store, run_id: str):
    return store.run_dir(run_id) / "controls"


def pending(store: Store, run_id: str) -> list[dict]:
    """The changes asked and not yet applied, oldest first."""
    return store.run_changes(run_id, pending=True)


def applied(store: Store, seq: int, step: int, epoch: int) -> None:
    """The worker applied change `seq` at this step and epoch."""
    store.change_applied(seq, step, epoch)


def record(store: Store, run_id: str, kind: str, by: str, step: int, epoch: int) -> None:
    """A change the worker made itself (a pause that ran out)."""
    store.record_change(run_id, kind, by, step, epoch)


def changes(store: Store, run_id: str) -> list[dict]:
    """Every change of the run, asked and applied, oldest first (the curves mark the applied ones)."""
    return store.run_changes(run_id)


def paused(rows: list[dict]) -> bool:
    """Whether the last applied pause/resume of these changes is a pause."""
    last = [r["kind"] for r in rows if r["kind"] in ("pause", "resume") and r["applied"] is not None]
    return bool(last) and last[-1] == "pause"

