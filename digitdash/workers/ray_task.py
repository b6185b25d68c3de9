"""What runs inside Ray for a run: the task that trains it, and the relay that carries its progress.

A task sends its progress (epochs, batches, changes applied) to one relay actor on the app's
machine, which the dispatcher (ray_runner) empties into the store, and learns from the relay's
answer whether the run was asked to stop or to change. The trained model comes back as the task's
result, with nothing on a shared filesystem.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from digitdash.digits import datasets
from digitdash.learning.results import Listener, Outcome
from digitdash.learning.training import train
from digitdash.plan import kinds
from digitdash.plan.config import ConfigError, RunConfig
from digitdash.workers.recording import failure
from digitdash.workers.worker import Failure, Trained, here

RELAY_SECONDS = 0.5          # a task sends its progress (and learns of a stop) about this often


class RelayListener(Listener):
    """A task's progress, sent to the relay actor in bundles; the relay's answer says whether the
    run has been asked to stop."""

    def __init__(self, relay, run_id: str):
        self.relay, self.run_id = relay, run_id
        self.pending: list[tuple] = []
        self.stop = False
        self.changes: list[dict] = []    # pause, resume, a new rate: from the relay, applied at the next batch
        self.last_send = 0.0

    def started(self, info):
        import ray
        context = ray.get_runtime_context()
        self.pending.append(("started", {**info, **here(), "runner": "ray",
                                         "node_ip": ray.util.get_node_ip_address(),
                                         "node_id": context.get_node_id(), "task_pid": os.getpid()}))
        self.send()

    def initial_weights(self, kernels):
        self.pending.append(("initial_weights", kernels))

    def epoch(self, row):
        self.pending.append(("epoch", row))
        self.send()

    def batch(self, step, epoch, loss):
        self.pending.append(("batch", (step, epoch, loss)))
        if time.monotonic() - self.last_send >= RELAY_SECONDS:
            self.send()

    def should_stop(self):
        if time.monotonic() - self.last_send >= RELAY_SECONDS:
            self.send()
        return self.stop

    def controls(self):
        changes, self.changes = self.changes, []
        return changes

    def applied(self, change, step, epoch):
        self.pending.append(("applied", (change, step, epoch)))
        self.send()

    def send(self):
        import ray
        events, self.pending = self.pending, []
        self.last_send = time.monotonic()
        stop, changes = ray.get(self.relay.push.remote(self.run_id, events))
        self.stop = self.stop or stop
        self.changes += changes


class _ModelFile:
    """A trained model as the bytes of its file: what a task gives back, saved by the store."""

    def __init__(self, data: bytes, suffix: str):
        self.data, self.suffix = data, suffix

    def save(self, path) -> None:
        Path(path).write_bytes(self.data)


def _packed(outcome: Outcome, config: RunConfig) -> Trained:
    """An Outcome in plain parts that travel back from a task: the model as its file's bytes, a
    Keras network's layers as arrays (forward.layers_of), done here where Keras is loaded."""
    from digitdash.reading import forward
    model = layers = None
    if outcome.model is not None:
        suffix = getattr(outcome.model, "suffix", ".keras")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"model{suffix}"
            outcome.model.save(path)
            model = _ModelFile(path.read_bytes(), suffix)
        if kinds.of(config.architecture).keras:
            try:
                layers = forward.layers_of(outcome.model)
            except forward.UnsupportedLayer:
                layers = None
    return Trained(Outcome(outcome.status, outcome.message, outcome.results, model, outcome.misclassified,
                           outcome.fit_seconds), layers)


def train_task(config: RunConfig, data: datasets.Dataset, relay, run_id: str, threads: int) -> Trained | Failure:
    """What runs on a Ray worker: train, with progress to the relay; how it ended comes back."""
    os.environ["DIGITDASH_TF_THREADS"] = str(threads)
    listener = RelayListener(relay, run_id)
    try:
        ending = _packed(train(config, data, listener), config)
    except (ConfigError, datasets.DatasetError) as exc:
        ending = Failure(exc.message)
    except Exception as exc:  # noqa: BLE001 - recorded as the run's message, never a traceback
        ending = Failure(failure(exc))
    listener.send()            # the last batches and epochs before the result
    return ending


class Relay:
    """A Ray actor on the app's machine: tasks push their progress, the dispatcher takes it and
    says which runs should stop."""

    def __init__(self):
        self.events: dict[str, list] = {}
        self.stops: set[str] = set()
        self.changes: dict[str, list] = {}

    def push(self, run_id: str, events: list) -> tuple[bool, list]:
        """Store a task's progress; answer whether it should stop, and the changes asked of it."""
        self.events.setdefault(run_id, []).extend(events)
        return run_id in self.stops, self.changes.pop(run_id, [])

    def change(self, run_id: str, changes: list) -> None:
        self.changes.setdefault(run_id, []).extend(changes)

    def take(self) -> dict[str, list]:
        events, self.events = self.events, {}
        return events

    def stop(self, run_ids: list[str]) -> None:
        self.stops.update(run_ids)
