"""A worker's sign of life for each run in hand, beaten by a thread whatever the training is doing."""
from __future__ import annotations

import threading

from digitdash.runs.store import HEARTBEAT_SECONDS, Store


class Heartbeat:
    """A daemon thread saying, every HEARTBEAT_SECONDS, that the runs held are alive (store.beat),
    whatever the training is doing: a long batch, an evaluation, a save, a wait for disk space. The
    pages take a run whose beats stop for SILENT_SECONDS for dead. `lost` holds the runs the store no
    longer has running (taken for dead while this process was stuck, or deleted): let them go."""

    def __init__(self, store: Store):
        self.store = store
        self.lost: set[str] = set()
        self._held: set[str] = set()
        self._beating = threading.Lock()        # a run released is never beaten for again
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="digitdash-heartbeat", daemon=True)

    def hold(self, run_id: str) -> None:
        """Beat for the run from now on, the first time at once."""
        with self._beating:
            self._held.add(run_id)
            self._beat_for([run_id])

    def release(self, run_id: str) -> None:
        """Beat for the run no more; returns once no beat for it is under way."""
        with self._beating:
            self._held.discard(run_id)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(HEARTBEAT_SECONDS + 5)

    def _loop(self):
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self._beat()

    def _beat(self):
        with self._beating:
            self._beat_for(list(self._held))

    def _beat_for(self, run_ids: list[str]):
        try:
            for run_id in run_ids:
                if not self.store.beat(run_id):
                    self.lost.add(run_id)
        except Exception:   # noqa: BLE001 - a beat never ends the worker; a missed one is only late
            pass
