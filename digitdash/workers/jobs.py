"""The job queue: runs wait in the store and worker processes train them one at a time.

Workers are fresh interpreters (`python -m digitdash worker`), never forks: TensorFlow breaks
under fork. They are not multiprocessing's spawn children either, because Streamlit runs page
scripts as `__main__` and a spawn child re-imports `__main__`, which would run the app again.

`Runner` is the one interface pages and the command line use: `LocalRunner` runs jobs in worker
processes on this machine (the pages), `ForegroundRunner` trains each one at once in this process
(the command line). `QueueRunner` is what every runner that queues in the store shares: the local
one here and `ray_runner.RayRunner` (Ray tasks), picked by `runners.chosen`.
"""
from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from digitdash import paths
from digitdash.digits import datasets
from digitdash.i18n import Message
from digitdash.learning import controls, device
from digitdash.learning.training import Listener, train
from digitdash.plan import architecture, kinds, limits
from digitdash.plan.config import ConfigError, RunConfig
from digitdash.reading import forward, handwriting
from digitdash.runs import estimate
from digitdash.runs.store import ACTIVE, HEARTBEAT_SECONDS, Store, StoreError, alive, is_teacher

IDLE_EXIT_SECONDS = 60      # a worker with nothing to do for this long exits
POLL_SECONDS = 0.3
LOCK_WAIT_SECONDS = 15      # a new worker waits this long for a dying one to let go of its slot
BATCH_FLUSH_SECONDS = 0.5   # per-batch losses are written at most twice a second
CONTROLS_RECHECK_SECONDS = 2  # a touched controls file is noticed at once; pending changes re-read this often
RECORD_RETRY_SECONDS = 3600   # a run's end that cannot be written (disk full) is tried again this long ...
RECORD_RETRY_EVERY = 2.0      # ... this often


CORES_PER_WORKER = 1        # on CPU: one worker per core, each TensorFlow told to use its share


def default_workers() -> int:
    """How many runs train at once: DIGITDASH_WORKERS, else DIGITDASH_RUNS_PER_GPU (default 2) per
    GPU, else one per CORES_PER_WORKER cores."""
    if _setting("DIGITDASH_WORKERS"):
        return _setting("DIGITDASH_WORKERS")
    gpus = device.gpu_names()
    if gpus:
        return len(gpus) * (_setting("DIGITDASH_RUNS_PER_GPU") or 2)
    return max(1, (os.cpu_count() or 1) // CORES_PER_WORKER)


def _setting(name: str) -> int | None:
    """A whole number of at least 1 from the environment; None when unset or not such a number."""
    text = os.environ.get(name, "").strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) >= 1 else None


def tensorboard_wanted() -> bool:
    """DIGITDASH_TENSORBOARD=1 (or true, yes, on): each Keras run also writes TensorBoard logs."""
    return os.environ.get("DIGITDASH_TENSORBOARD", "").strip().lower() in ("1", "true", "yes", "on")


def admit(store: Store, configs: list[RunConfig], owner: str | None, teacher: bool = False) -> None:
    """Refuse, before any run exists, configs that cannot be built (ConfigError) or that break the
    teacher's limits for a student (LimitError, naming the limit)."""
    runs = store.runs()
    waiting = sum(r["owner"] == owner and r["status"] in ACTIVE for r in runs)
    rules = limits.load()
    for n, config in enumerate(configs):
        config.validate()
        if not is_teacher(owner, teacher):
            datasets.student_choice(config.dataset)
        shape, classes = datasets.shape_of(config.dataset)
        if config.class_drawings and not datasets.digit_shaped(shape, len(classes)):
            raise ConfigError("class_drawings", True, handwriting.not_digits(config.dataset))
        architecture.plan(config, shape, len(classes))          # too big, or shrunk to nothing
        if not is_teacher(owner, teacher):
            rules.check(config, estimate.run_seconds(config, runs), waiting + n)


class Runner:
    """Where runs go to be trained."""

    def submit(self, config: RunConfig, name: str | None = None, owner: str | None = None,
               group: str | None = None, teacher: bool = False) -> str:
        raise NotImplementedError

    def stop(self, run_id: str, by: str | None = None, teacher: bool = False) -> str:
        raise NotImplementedError

    def queue_position(self, run_id: str) -> int | None:
        raise NotImplementedError


class QueueRunner(Runner):
    """Runs wait in the store's fair queue until something claims them (`ensure` starts it): the
    queue order, the limits, cancelling and stopping are the store's, whoever trains."""

    store: Store

    def submit(self, config, name=None, owner=None, group=None, teacher=False) -> str:
        admit(self.store, [config], owner, teacher)
        run_id = self.store.create(config, name=name, owner=owner, group=group)
        self.ensure()
        return run_id

    def stop(self, run_id: str, by: str | None = None, teacher: bool = False) -> str:
        return self.store.request_stop(run_id, by=by, teacher=teacher)   # a stop file the trainer watches

    def queue_position(self, run_id: str) -> int | None:
        return self.store.queue_position(run_id)

    def ensure(self) -> None:
        raise NotImplementedError


class LocalRunner(QueueRunner):
    """Worker processes on this machine: `workers` of them (default_workers()), each with its share
    of the CPU cores."""

    def __init__(self, store: Store | None = None, workers: int | None = None):
        self.store = store or Store()
        self.workers = workers if workers is not None else default_workers()
        self._children: list[subprocess.Popen] = []

    def ensure(self) -> None:
        self.ensure_workers()

    def shutdown(self, timeout: float = 30) -> None:
        """End the workers this runner started (a run in hand is marked interrupted)."""
        for proc in self._children:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._children:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._children = []

    def ensure_workers(self) -> list[subprocess.Popen]:
        """Start a worker for every slot that has none; returns the processes started."""
        self._children = [p for p in self._children if p.poll() is None]  # reap exited ones
        self.store.reap()
        started = []
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        for slot in range(self.workers):
            if not _slot_taken(self.store.home, slot):
                started.append(spawn_worker(self.store.home, str(slot), ["--slot", str(slot)],
                                            {"DIGITDASH_TF_THREADS": str(threads)}))
        self._children += started
        return started


def spawn_worker(home: Path, slot: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
    """`python -m digitdash worker ARGS` as a fresh interpreter over the store at `home`, its output
    in worker-<slot>.log there."""
    root = str(paths.SOURCE)
    env = {**os.environ, "DIGITDASH_HOME": str(home), **(env or {}),
           "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    with open(Path(home) / f"worker-{slot}.log", "ab") as log:      # the child keeps its own copy
        return subprocess.Popen([sys.executable, "-m", "digitdash", "worker", *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


class ForegroundRunner(Runner):
    """Trains each submitted run at once, in this process: submit returns when the run has ended.
    `on_start(run_id, config)` and `on_epoch(config, row)` let the caller show progress."""

    def __init__(self, store: Store | None = None, on_start=None, on_epoch=None):
        self.store = store or Store()
        self.on_start, self.on_epoch = on_start, on_epoch

    def submit(self, config, name=None, owner=None, group=None, teacher=False) -> str:
        admit(self.store, [config], owner, teacher)
        run_id = self.store.create(config, name=name, owner=owner, group=group, status="running")
        self.store.update(run_id, worker_pid=os.getpid())
        if self.on_start:
            self.on_start(run_id, config)
        execute(self.store, run_id, echo=(lambda row: self.on_epoch(config, row)) if self.on_epoch else None)
        return run_id

    def stop(self, run_id: str, by: str | None = None, teacher: bool = False) -> str:
        return self.store.request_stop(run_id, by=by, teacher=teacher)

    def queue_position(self, run_id: str) -> int | None:
        return None           # nothing waits: a run trains as it is submitted


def _lock_path(home: Path, slot: int) -> Path:
    return Path(home) / f"worker-{slot}.lock"


def _slot_taken(home: Path, slot: int) -> bool:
    """A live worker holds the slot's lock. A dead one may hold it a moment longer (a zombie not
    yet reaped): its pid, written beside the lock, tells the two apart."""
    with open(_lock_path(home, slot), "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                pid = int(_lock_path(home, slot).with_suffix(".pid").read_text())
            except (OSError, ValueError):
                return True
            return alive(pid)
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def _acquire(lock, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


class _Interrupted(BaseException):
    """The worker was told to end (SIGTERM): the run in hand is marked interrupted."""


def worker_main(home: str, slot: int = 0, idle_exit: float = IDLE_EXIT_SECONDS) -> None:
    """Claim queued runs and train them until the queue has been empty for idle_exit seconds."""
    os.environ["DIGITDASH_HOME"] = home
    lock = open(_lock_path(Path(home), slot), "a")
    if not _acquire(lock, LOCK_WAIT_SECONDS):
        return  # another live worker holds this slot
    try:
        _lock_path(Path(home), slot).with_suffix(".pid").write_text(str(os.getpid()))
    except OSError:       # a full disk: the lock alone tells a live worker (see _slot_taken)
        pass
    try:   # training is background work: the server's page renders come first
        os.nice(int(os.environ.get("DIGITDASH_WORKER_NICE", "10")))
    except (OSError, ValueError):
        pass

    def on_term(signum, frame):
        raise _Interrupted()
    signal.signal(signal.SIGTERM, on_term)
    store = Store(home)
    try:
        while True:
            _drain(store, idle_exit)
            # Let go of the slot, then look once more: a run submitted while this worker was
            # deciding to exit saw the slot taken and started no worker of its own.
            fcntl.flock(lock, fcntl.LOCK_UN)
            if not store.queue() or not _acquire(lock, 0):
                break
    except _Interrupted:
        pass
    finally:
        lock.close()


def _drain(store: Store, idle_exit: float) -> None:
    """Train queued runs until the queue has been empty for idle_exit seconds."""
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < idle_exit:
        try:
            store.reap()
            run = store.claim_next(os.getpid())
        except StoreError:         # the store cannot be written (disk full): nothing can start now
            run = None
        if run is None:
            time.sleep(POLL_SECONDS)
            continue
        execute(store, run["id"])
        idle_since = time.monotonic()


class Heartbeat:
    """A daemon thread saying, every HEARTBEAT_SECONDS, that the runs in hand are alive (store.beat),
    whatever the training is doing: a long batch, an evaluation, a save, a wait for disk space. The
    pages take a run whose beats stop for SILENT_SECONDS for dead. `lost` holds the runs the store no
    longer has running (taken for dead while this process was stuck, or deleted): let them go."""

    def __init__(self, store: Store, run_ids):
        self.store, self.run_ids = store, run_ids if callable(run_ids) else (lambda: list(run_ids))
        self.lost: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="digitdash-heartbeat", daemon=True)

    def __enter__(self):
        self._beat()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(HEARTBEAT_SECONDS + 5)

    def _loop(self):
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self._beat()

    def _beat(self):
        try:
            for run_id in list(self.run_ids()):
                if not self.store.beat(run_id):
                    self.lost.add(run_id)
        except Exception:   # noqa: BLE001 - a beat never ends the worker; a missed one is only late
            pass


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


def _save_layers(store: Store, run_id: str, config: RunConfig, model) -> None:
    """A Keras run's layers as plain arrays beside its model, written after it (predict.LAYERS_FILE):
    the page server answers with them without TensorFlow."""
    if kinds.of(config.architecture).keras:
        try:
            store.save_arrays(run_id, "layers", forward.layers_of(model))
        except (forward.UnsupportedLayer, OSError):
            pass                   # the server loads the Keras file instead


def _read_drawings(store: Store, run_id: str, results: dict) -> None:
    """A digit model's accuracy on made-here canvas drawings (robustness.drawn_digits), in its
    results: Compare shows how well each run reads drawn strokes, not only MNIST."""
    from digitdash.reading import robustness
    try:
        results["drawings_accuracy"] = robustness.drawings_accuracy(store, run_id)
    except Exception:              # noqa: BLE001 - an extra figure never fails a trained, saved run
        pass                       # the run keeps its other figures


def _answer_class_drawings(store: Store, run_id: str) -> None:
    """The finished run's answers to the class's drawings, kept now by the worker: Compare's table of
    hundreds of runs reads them and loads no model (drawings added later are answered when a
    student selects the run)."""
    try:
        handwriting.score(store, run_id)
    except Exception:              # noqa: BLE001 - only a cache: the page predicts what is missing
        pass


def prepared(store: Store, config: RunConfig) -> tuple[datasets.Dataset, dict]:
    """The arrays a run trains on (the class's drawings added when it asks) and what to record of
    them in the run's info."""
    data = datasets.load(config.dataset)
    extra = {}
    if config.class_drawings:
        data, extra["class_drawings"] = handwriting.added_to(data, store)
    return data, extra


def here() -> dict:
    """Where a run trained, for its info (`show --json`): the runner and the machine."""
    return {"runner": "local", "node": socket.gethostname()}


def record(store: Store, run_id: str, config: RunConfig, digits: bool, outcome, layers: dict | None = None,
           settle=None, retry_seconds: float = RECORD_RETRY_SECONDS) -> None:
    """Keep what a run learnt (its model, its layers as arrays, its misclassified digits, its reading
    of drawings) and finish it with its outcome. `layers` when they were taken from the model
    elsewhere (a Ray task); otherwise from the model here. `settle` writes the progress still
    waiting first (StoreListener.settle)."""
    try:
        if outcome.model is not None:
            store.save_model(run_id, outcome.model)
            if layers is not None:
                store.save_arrays(run_id, "layers", layers)
            else:
                _save_layers(store, run_id, config, outcome.model)
        if outcome.misclassified is not None:
            store.save_arrays(run_id, "misclassified", outcome.misclassified)
    except OSError as exc:   # disk full, folder gone: the figures are kept, the model is not
        end(store, run_id, "failed", Message("run.not_saved", reason=exc.strerror or str(exc)), outcome.results,
            settle=settle, retry_seconds=retry_seconds)
        return
    if outcome.model is not None and digits:
        _read_drawings(store, run_id, outcome.results)
    if end(store, run_id, outcome.status, outcome.message, outcome.results, settle=settle,
           retry_seconds=retry_seconds) and outcome.model is not None and digits:
        _answer_class_drawings(store, run_id)


def end(store: Store, run_id: str, status: str, message, results: dict | None = None, settle=None,
        retry_seconds: float = RECORD_RETRY_SECONDS) -> bool:
    """Record a run's end (after `settle()`, the progress still waiting). While the store cannot be
    written (the disk full) the run's life file says the model could not be saved, and the end is
    tried again every RECORD_RETRY_EVERY seconds for up to `retry_seconds` (the heartbeat goes on
    meanwhile): freed space gets the whole end written, figures included. Returns whether it was."""
    deadline = time.monotonic() + retry_seconds
    while True:
        try:
            if settle is not None:
                settle()
            store.finish(run_id, status, message, results)
            return True
        except StoreError as exc:
            saved = isinstance(message, Message) and message.key == "run.not_saved"
            store.last_word(run_id, message.params["reason"] if saved else exc.message.params.get("reason") or exc.message)
        if time.monotonic() >= deadline:
            return False
        time.sleep(RECORD_RETRY_EVERY)


def failure(exc: Exception) -> Message:
    """An unexpected error as a run's message: its last line, never a traceback."""
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return Message("run.failed", reason=last[:500])


def execute(store: Store, run_id: str, echo=None) -> dict:
    """Train a run that is marked running, record everything, and return the finished run. A
    heartbeat thread says the run is alive throughout, so its death is noticed within seconds."""
    run = store.get(run_id)
    config: RunConfig = run["config"]
    if store.stop_file(run_id).exists() or run["stop_requested"]:
        end(store, run_id, "stopped", Message("run.stopped_before_start"), retry_seconds=0)
        return store.get(run_id)
    with Heartbeat(store, [run_id]) as heartbeat:
        listener = StoreListener(store, run_id, echo, here(), heartbeat)
        try:
            data, extra = prepared(store, config)
            listener.info.update(extra)
            outcome = train(config, data, listener)
            if run_id not in heartbeat.lost:      # else the store let the run go (taken for dead): leave it be
                record(store, run_id, config, datasets.digit_shaped(data.image_shape, data.num_classes), outcome,
                       settle=listener.settle)
        except (ConfigError, datasets.DatasetError) as exc:
            end(store, run_id, "failed", exc.message, settle=listener.settle)
        except (_Interrupted, KeyboardInterrupt):
            n = len(store.epochs(run_id))
            end(store, run_id, "interrupted", Message("run.interrupted", epochs=n), retry_seconds=0)
            raise
        except Exception as exc:  # anything else: record it, keep the worker alive
            end(store, run_id, "failed", failure(exc), settle=listener.settle)
    run = store.get(run_id)
    if run["status"] != "running":      # recorded: the life file (and any last word in it) has served
        try:
            store.life_file(run_id).unlink(missing_ok=True)
        except OSError:
            pass
    return run
