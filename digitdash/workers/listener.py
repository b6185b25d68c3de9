"""A run's progress written to the store as it trains, and the stop and changes asked of it read back."""
from __future__ import annotations

import time

from digitdash.learning import controls
from digitdash.learning.results import Listener
from digitdash.runs.store import Store, StoreError
from digitdash.workers.settings import tensorboard_wanted

BATCH_FLUSH_SECONDS = 0.5   # per-batch losses are written at most twice a second
CONTROLS_RECHECK_SECONDS = 2  # a touched controls file is noticed at once; pending changes re-read this often


class StoreListener(Listener):
    """Writes a run's progress to the store; asks to stop when the run's stop file appears (or the
    store has let the run go: `heartbeat.lost`). A write the store refuses (the disk full) is kept
    and tried again with the next one, so training goes on and nothing learnt is dropped."""

    def __init__(self, store: Store, run_id: str, echo=None, info: dict | None = None, heartbeat=None):
        self.store, self.run_id, self.echo, self.info = store, run_id, echo, info or {}
        self.heartbeat = heartbeat
        self.stop_file = store.stop_file(run_id)
        self.pending: list[tuple[int, int, float]] = []
        self.unwritten: list = []          # store writes refused so far, oldest first
        self.last_flush = time.monotonic()
        self.controls_seen, self.controls_read = None, 0.0

    def write(self, call=None) -> None:
        """Do `call` (a store write) after those still waiting; a refused one waits for the next try."""
        if call is not None:
            self.unwritten.append(call)
        try:
            self.settle(flush=False)
        except StoreError:
            pass

    def settle(self, flush: bool = True) -> None:
        """Write everything still waiting; StoreError while the store cannot be written."""
        if flush:
            self.flush()
        while self.unwritten:
            try:
                self.unwritten[0]()
            except StoreError:
                raise
            except Exception:   # noqa: BLE001 - a change the run no longer takes (ended meanwhile): dropped
                pass
            self.unwritten.pop(0)

    def started(self, info):
        self.write(lambda: self.store.update(self.run_id, device=info["device"], params=info["params"],
                                             flops=info["flops"], info={**info, **self.info}))

    def initial_weights(self, kernels):
        try:
            self.store.save_arrays(self.run_id, "initial", kernels)
        except OSError:     # optional: the Inside page then shows no change from initialization
            pass

    def epoch(self, row):
        self.flush()
        self.write(lambda: self.store.add_epoch(self.run_id, row))
        if self.echo:
            self.echo(row)

    def batch(self, step, epoch, loss):
        self.pending.append((step, epoch, loss))
        if time.monotonic() - self.last_flush >= BATCH_FLUSH_SECONDS:
            self.flush()

    def flush(self):
        rows, self.pending = self.pending, []
        self.last_flush = time.monotonic()
        self.write((lambda: self.store.add_batches(self.run_id, rows)) if rows else None)

    def should_stop(self):
        return self.stop_file.exists() or (self.heartbeat is not None and self.run_id in self.heartbeat.lost)

    def controls(self):
        """Changes asked of the run: read from the store only when its controls file has been touched."""
        try:
            stamp = controls.signal_file(self.store, self.run_id).stat().st_mtime_ns
        except OSError:
            return []
        if stamp == self.controls_seen and time.monotonic() - self.controls_read < CONTROLS_RECHECK_SECONDS:
            return []                                  # (re-read now and then: a coarse clock may miss a touch)
        self.controls_seen, self.controls_read = stamp, time.monotonic()
        try:
            return controls.pending(self.store, self.run_id)
        except StoreError:
            return []

    def applied(self, change, step, epoch):
        if change.get("seq") is None:                  # the worker's own change: a pause that ran out
            self.write(lambda: controls.record(self.store, self.run_id, change["kind"], change.get("by"), step, epoch))
        else:
            self.write(lambda: controls.applied(self.store, change["seq"], step, epoch))

    def log_dir(self):
        """runs/<id>/tensorboard with DIGITDASH_TENSORBOARD=1 (`tensorboard --logdir $DIGITDASH_HOME/runs`)."""
        return str(self.store.run_dir(self.run_id) / "tensorboard") if tensorboard_wanted() else None
