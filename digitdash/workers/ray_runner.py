"""Runs trained as Ray tasks, on this machine or on a cluster, with the store as the one record.

`RayRunner` queues runs in the store like `LocalRunner`, so the fair queue, the limits, stop and
queue positions are the same. One dispatcher process on the app's machine (`python -m digitdash
worker --ray`, started on the first submit) connects to Ray (RAY_ADDRESS, or with none a local Ray
started for that process), claims runs in the fair queue's order as the cluster has room, and sends
each one as a Ray task. Nothing needs a shared filesystem: each dataset goes into Ray's object store
once; a task sends its progress to one relay actor, which the dispatcher empties into the store
(so the browser's live curves look the same); the trained model comes back as the task's result.

Settings: DIGITDASH_RAY_GPU (a fraction of a GPU per run, e.g. 0.25) or DIGITDASH_RAY_CPUS (CPUs
per run, default 1); DIGITDASH_WORKERS caps the runs in flight (default: what the cluster holds);
DIGITDASH_RAY_LOCAL_CPUS the CPUs of a local Ray. When Ray cannot be reached, the waiting runs fail
with one message saying so.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from digitdash import paths
from digitdash.digits import datasets
from digitdash.i18n import Message
from digitdash.learning.results import Listener, Outcome
from digitdash.plan import kinds
from digitdash.plan.config import ConfigError, RunConfig
from digitdash.runs.store import Store, StoreError
from digitdash.workers.jobs import (IDLE_EXIT_SECONDS, LOCK_WAIT_SECONDS, POLL_SECONDS, Heartbeat, QueueRunner,
                                    StoreListener, _acquire, _setting, _slot_taken, end, failure, here, prepared,
                                    record, spawn_worker)

SLOT = "ray"                 # the dispatcher's lock: worker-ray.lock in the store's folder
CAPACITY_FILE = "ray.json"   # what the dispatcher last saw of the cluster (for the pages' wait estimates)
RELAY_SECONDS = 0.5          # a task sends its progress (and learns of a stop) about this often
CAPACITY_SECONDS = 5         # the cluster's room is looked at again this often (machines join and leave)


def ray_settings() -> dict:
    """What each run asks Ray for: {"num_gpus": f} with DIGITDASH_RAY_GPU, else {"num_cpus": n}."""
    text = os.environ.get("DIGITDASH_RAY_GPU", "").strip()
    if text:
        try:
            fraction = float(text)
        except ValueError:
            fraction = 0.0
        if not 0 < fraction <= 1:
            raise ConfigError("DIGITDASH_RAY_GPU", text, Message("config.allowed.ray_gpu"))
        return {"num_gpus": fraction}
    return {"num_cpus": _setting("DIGITDASH_RAY_CPUS") or 1}


class RayRunner(QueueRunner):
    """Runs go to Ray through the dispatcher; the store stays on this machine."""

    def __init__(self, store: Store | None = None):
        self.store = store or Store()
        ray_settings()                               # a bad setting is said at start, not per run
        self._child: subprocess.Popen | None = None

    @property
    def workers(self) -> int:
        """Runs that train at once: what the dispatcher last found room for (1 before it looked)."""
        try:
            return max(1, int(json.loads((self.store.home / CAPACITY_FILE).read_text())["capacity"]))
        except (OSError, ValueError, KeyError, TypeError):
            return _setting("DIGITDASH_WORKERS") or 1

    def ensure(self) -> None:
        self.ensure_dispatcher()

    def ensure_dispatcher(self) -> subprocess.Popen | None:
        """Start the dispatcher unless one is running; returns the process started."""
        if self._child is not None and self._child.poll() is None:
            return None
        self.store.reap()
        if _slot_taken(self.store.home, SLOT):
            return None
        self._child = spawn_worker(self.store.home, SLOT, ["--ray"])
        return self._child

    def shutdown(self, timeout: float = 30) -> None:
        """End the dispatcher (its runs in flight are marked interrupted)."""
        if self._child is not None and self._child.poll() is None:
            self._child.terminate()
            try:
                self._child.wait(timeout)
            except subprocess.TimeoutExpired:
                self._child.kill()
        self._child = None


# ---- inside a Ray task ----------------------------------------------------------------------

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


def _packed(outcome: Outcome, config: RunConfig) -> dict:
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
    return {"outcome": Outcome(outcome.status, outcome.message, outcome.results, model, outcome.misclassified,
                               outcome.fit_seconds), "layers": layers}


def train_task(config: RunConfig, data: datasets.Dataset, relay, run_id: str, threads: int) -> dict:
    """What runs on a Ray worker: train, with progress to the relay; the outcome comes back."""
    from digitdash.learning.training import train
    os.environ["DIGITDASH_TF_THREADS"] = str(threads)
    listener = RelayListener(relay, run_id)
    try:
        outcome = train(config, data, listener)
        packed = _packed(outcome, config)
    except (ConfigError, datasets.DatasetError) as exc:
        packed = {"failed": exc.message}
    except Exception as exc:  # noqa: BLE001 - recorded as the run's message, never a traceback
        packed = {"failed": failure(exc)}
    listener.send()            # the last batches and epochs before the result
    return packed


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


# ---- the dispatcher, on the app's machine ---------------------------------------------------

class _Interrupted(BaseException):
    """The dispatcher was told to end (SIGTERM): its runs in flight are marked interrupted."""


class Dispatcher:
    """Sends queued runs to Ray as the cluster has room and records what comes back."""

    def __init__(self, store: Store):
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        self.store, self.ray = store, ray
        here = ray.get_runtime_context().get_node_id()
        self.relay = ray.remote(num_cpus=0)(Relay).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=True)).remote()
        self.resources = ray_settings()
        self.task = ray.remote(max_retries=0, **self.resources)(train_task)
        self.threads = max(1, int(self.resources.get("num_cpus", 1)))
        self.flight: dict[str, dict] = {}     # run id -> {"ref", "listener", "config", "digits"}
        self.data_refs: dict[str, tuple] = {}   # dataset name -> (the Dataset, its ref in the object store)
        self.puts = 0                          # datasets placed in the object store (one per dataset)
        self._capacity, self._looked, self._seen = 1, -CAPACITY_SECONDS, {}
        # Beats for every run in flight (this process is their worker_pid); runs the store let go stop.
        self.heartbeat = Heartbeat(store, lambda: list(self.flight))

    def capacity(self) -> int:
        """Runs in flight at once: DIGITDASH_WORKERS, else as many as the cluster's CPUs (or GPUs,
        by DIGITDASH_RAY_GPU's fraction) hold now."""
        if time.monotonic() - self._looked >= CAPACITY_SECONDS:
            self._looked = time.monotonic()
            total = self.ray.cluster_resources()
            if "num_gpus" in self.resources:
                room = int(total.get("GPU", 0) / self.resources["num_gpus"] + 1e-9)
            else:
                room = int(total.get("CPU", 0) // self.resources["num_cpus"])
            self._capacity = _setting("DIGITDASH_WORKERS") or max(1, room)
            self._seen = {"nodes": sum(n["Alive"] for n in self.ray.nodes()), "resources": total}
            self.report()
        return self._capacity

    def report(self) -> None:
        """What the dispatcher sees, in the store's folder: the pages' wait estimates read it."""
        try:
            (self.store.home / CAPACITY_FILE).write_text(json.dumps(
                {"capacity": self._capacity, **self._seen, "datasets_put": self.puts}))
        except OSError:
            pass

    def data_ref(self, name: str, data: datasets.Dataset):
        """The dataset's ref in the object store, put there once (again only when its files changed)."""
        kept = self.data_refs.get(name)
        if kept is None or kept[0] is not data:
            kept = (data, self.ray.put(data))
            self.data_refs[name] = kept
            self.puts += 1
            self.report()
        return kept[1]

    def start(self, run: dict) -> None:
        run_id, config = run["id"], run["config"]
        if self.store.stop_file(run_id).exists() or run["stop_requested"]:
            end(self.store, run_id, "stopped", Message("run.stopped_before_start"), retry_seconds=0)
            return
        try:
            data, extra = prepared(self.store, config)
        except (ConfigError, datasets.DatasetError) as exc:
            end(self.store, run_id, "failed", exc.message, retry_seconds=0)
            return
        ref = self.data_ref(config.dataset, data) if not extra else self.ray.put(data)   # drawings: this run's own
        self.flight[run_id] = {
            "ref": self.task.remote(config, ref, self.relay, run_id, self.threads),
            "listener": StoreListener(self.store, run_id, info=extra, heartbeat=self.heartbeat), "config": config,
            "sent": set(),
            "digits": datasets.digit_shaped(data.image_shape, data.num_classes)}

    def relay_progress(self) -> None:
        """Progress into the store; stop requests (the stop file) out to the tasks."""
        for run_id, events in self.ray.get(self.relay.take.remote()).items():
            listener = self.flight[run_id]["listener"] if run_id in self.flight else None
            for kind, value in events if listener else ():
                if kind in ("batch", "applied"):
                    getattr(listener, kind)(*value)
                else:
                    getattr(listener, kind)(value)
            if listener:
                listener.flush()
        stops = [r for r in self.flight if self.store.stop_file(r).exists() or r in self.heartbeat.lost]
        if stops:
            self.relay.stop.remote(stops)
        for run_id, flight in self.flight.items():     # pause, resume, a new rate: read as a local worker does
            changes = [c for c in flight["listener"].controls() if c["seq"] not in flight["sent"]]
            if changes:
                flight["sent"].update(c["seq"] for c in changes)
                self.relay.change.remote(run_id, changes)

    def finish_ready(self) -> None:
        refs = {f["ref"]: run_id for run_id, f in self.flight.items()}
        if not refs:
            return
        ready, _ = self.ray.wait(list(refs), num_returns=len(refs), timeout=0)
        if ready:
            self.relay_progress()              # what the tasks sent before they ended
        for ref in ready:
            run_id = refs[ref]
            flight = self.flight.pop(run_id)
            # An end the store cannot take (disk full) is tried once here: the dispatcher serves every
            # run in flight. The run's life file keeps the last word; the run, no longer beaten for,
            # is ended by the pages (store.reap) as not saved once the store can be written.
            settle = flight["listener"].settle
            if run_id in self.heartbeat.lost:        # the store let the run go (taken for dead): leave it be
                continue
            try:
                packed = self.ray.get(ref)
            except self.ray.exceptions.RayTaskError as exc:        # raised in our code: a failure
                end(self.store, run_id, "failed", failure(exc.cause if exc.cause else exc), settle=settle,
                    retry_seconds=0)
                continue
            except self.ray.exceptions.RayError:   # worker or node lost, object gone: as a killed worker
                n = len(self.store.epochs(run_id))
                end(self.store, run_id, "interrupted", Message("run.worker_died", epochs=n), settle=settle,
                    retry_seconds=0)
                continue
            if "failed" in packed:
                end(self.store, run_id, "failed", packed["failed"], settle=settle, retry_seconds=0)
            else:
                record(self.store, run_id, flight["config"], flight["digits"], packed["outcome"], packed["layers"],
                       settle=settle, retry_seconds=0)

    def step(self) -> bool:
        """One round: progress in, finished runs recorded, new runs out. True when anything is
        queued or in flight."""
        self.relay_progress()
        self.finish_ready()
        while len(self.flight) < self.capacity():
            try:
                run = self.store.claim_next(os.getpid())
            except StoreError:       # the store cannot be written (disk full): nothing starts now
                break
            if run is None:
                break
            self.start(run)
        return bool(self.flight) or bool(self.store.queue())

    def interrupt_all(self) -> None:
        for run_id, flight in self.flight.items():
            self.ray.cancel(flight["ref"], force=True)
            n = len(self.store.epochs(run_id))
            end(self.store, run_id, "interrupted", Message("run.interrupted", epochs=n), retry_seconds=0)
        self.flight = {}


def connect():
    """Ray for this process: the cluster at RAY_ADDRESS, else a local one started here with
    DIGITDASH_RAY_LOCAL_CPUS CPUs (default: all). The digitdash package travels to a cluster's
    machines with the job (runtime_env py_modules)."""
    import ray
    address = os.environ.get("RAY_ADDRESS", "").strip() or None
    if address:
        ray.init(address=address, runtime_env={"py_modules": [str(paths.PACKAGE)]},
                 log_to_driver=False, logging_level="warning")
    else:
        ray.init(num_cpus=_setting("DIGITDASH_RAY_LOCAL_CPUS"), include_dashboard=False,
                 log_to_driver=False, logging_level="warning")
    return ray


def dispatcher_main(home: str, idle_exit: float = IDLE_EXIT_SECONDS) -> None:
    """Send queued runs to Ray until nothing has been queued or in flight for idle_exit seconds."""
    os.environ["DIGITDASH_HOME"] = home
    lock_path = Path(home) / f"worker-{SLOT}.lock"
    lock = open(lock_path, "a")
    if not _acquire(lock, LOCK_WAIT_SECONDS):
        return
    try:
        lock_path.with_suffix(".pid").write_text(str(os.getpid()))
    except OSError:       # a full disk: the lock alone tells a live dispatcher
        pass

    def on_term(signum, frame):
        raise _Interrupted()
    signal.signal(signal.SIGTERM, on_term)
    store = Store(home)
    try:
        connect()
        dispatcher = Dispatcher(store)
    except Exception as exc:  # noqa: BLE001 - no Ray: every waiting run is told why, none waits forever
        address = os.environ.get("RAY_ADDRESS", "").strip() or "local"
        reason = failure(exc).params["reason"].splitlines()[0][:200]
        for run in store.runs(("queued",)):
            store.finish(run["id"], "failed", Message("run.ray_unreachable", address=address, reason=reason))
        lock.close()
        return
    try:
        with dispatcher.heartbeat:
            while True:
                idle_since = time.monotonic()
                while time.monotonic() - idle_since < idle_exit:
                    if dispatcher.step():
                        idle_since = time.monotonic()
                    time.sleep(POLL_SECONDS)
                fcntl.flock(lock, fcntl.LOCK_UN)   # as a local worker: look once more after letting go
                if not store.queue() or not _acquire(lock, 0):
                    break
    except _Interrupted:
        dispatcher.interrupt_all()
    finally:
        lock.close()
