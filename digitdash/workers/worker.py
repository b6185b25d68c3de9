"""The worker loop: claim queued runs, prepare their data, have them trained, record how they ended.

One loop serves both ways of training: a local worker process trains each run itself, one at a time
(`InProcessTrainer`, `worker_main`); the Ray dispatcher sends runs to Ray as tasks (ray_runner's
`RayTrainer`, `dispatcher_main`). The loop does everything else for both: the slot's lock, the fair
queue's claims, a stop asked before the start, the data, the heartbeat, the end recorded, and on
SIGTERM the runs in hand marked interrupted.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from digitdash.digits import datasets
from digitdash.i18n import Message
from digitdash.learning.results import Outcome
from digitdash.learning.training import train
from digitdash.plan.config import ConfigError, RunConfig
from digitdash.reading import handwriting
from digitdash.runs.store import Store, StoreError
from digitdash.workers.heartbeat import Heartbeat
from digitdash.workers.listener import StoreListener
from digitdash.workers.processes import SlotLock
from digitdash.workers.recording import RECORD_RETRY_SECONDS, end, failure, record

IDLE_EXIT_SECONDS = 60      # a worker with nothing to do for this long exits
POLL_SECONDS = 0.3
LOCK_WAIT_SECONDS = 15      # a new worker waits this long for a dying one to let go of its slot


@dataclass(frozen=True)
class Trained:
    """A run's training outcome, and its network's layers as arrays when they were taken from the
    model elsewhere (a Ray task)."""
    outcome: Outcome
    layers: dict | None = None


@dataclass(frozen=True)
class Failure:
    """A run that ended with nothing learnt to keep: the status and message to record."""
    message: Message
    status: str = "failed"


class Trainer:
    """How a worker's claimed runs are trained: in this process, or as Ray tasks."""

    retry_seconds: float = 0.0     # how long an end the store refuses (disk full) is tried again

    def capacity(self) -> int:
        """How many runs it trains at once."""
        return 1

    def start(self, run_id: str, config: RunConfig, data: datasets.Dataset, listener: StoreListener,
              own_data: bool) -> None:
        """Begin training a prepared run, its progress to `listener`; `own_data` when its arrays are
        its own (the class's drawings added), not its dataset's."""
        raise NotImplementedError

    def ended(self) -> list[tuple[str, Trained | Failure]]:
        """The runs whose training has ended since last asked, with how each ended."""
        raise NotImplementedError

    def cancel(self, run_id: str) -> None:
        """Give up a run's training at once: the worker is ending."""


class InProcessTrainer(Trainer):
    """Trains each run at once, in this process: start returns when the run has ended."""

    retry_seconds = RECORD_RETRY_SECONDS      # one run in hand: its end is worth waiting for

    def __init__(self):
        self.done: list[tuple[str, Trained | Failure]] = []

    def start(self, run_id, config, data, listener, own_data) -> None:
        listener.info.update(here())
        self.done.append((run_id, Trained(train(config, data, listener))))

    def ended(self) -> list[tuple[str, Trained | Failure]]:
        done, self.done = self.done, []
        return done


def here() -> dict:
    """Where a run trained, for its info (`show --json`): the runner and the machine."""
    return {"runner": "local", "node": socket.gethostname()}


def prepared(store: Store, config: RunConfig) -> tuple[datasets.Dataset, dict]:
    """The arrays a run trains on (the class's drawings added when it asks, then handwriting-like
    variants of them all when it asks) and what to record of them in the run's info."""
    data = datasets.load(config.dataset)
    extra = {}
    if config.class_drawings:
        data, extra["class_drawings"] = handwriting.added_to(data, store)
    if config.written:
        from digitdash.digits import written
        data, extra["written"] = written.added_to(data, config.seed, config.validation_split)
    return data, extra


@dataclass
class RunInHand:
    """A run a worker has claimed and not yet let go."""
    config: RunConfig
    listener: StoreListener
    digits: bool = False          # its data are digits: its model also reads the class's drawings


class _Interrupted(BaseException):
    """The worker was told to end (SIGTERM): its runs in hand are marked interrupted."""


class Worker:
    """Claims runs from the store's fair queue as its trainer has room, and sees each one through: a
    stop asked before it started, its data, its heartbeat while in hand, its end recorded."""

    def __init__(self, store: Store, trainer: Trainer, echo=None):
        self.store, self.trainer, self.echo = store, trainer, echo
        self.in_hand: dict[str, RunInHand] = {}
        self.heartbeat = Heartbeat(store)

    @contextlib.contextmanager
    def working(self):
        """The heartbeat beats while the block runs; an interrupted block (SIGTERM, Ctrl-C) leaves the
        runs in hand marked interrupted."""
        with self.heartbeat:
            try:
                yield self
            except (_Interrupted, KeyboardInterrupt):
                self.interrupt_all()
                raise

    def take(self, run: dict) -> None:
        """Start a claimed run: ended at once when a stop came before it started, else its data
        prepared and handed to the trainer. It is in hand, beaten for, until its end is recorded."""
        run_id, config = run["id"], run["config"]
        if self.store.stop_file(run_id).exists() or run["stop_requested"]:
            end(self.store, run_id, "stopped", Message("run.stopped_before_start"), retry_seconds=0)
            return
        held = RunInHand(config, StoreListener(self.store, run_id, self.echo, heartbeat=self.heartbeat))
        self.in_hand[run_id] = held
        self.heartbeat.hold(run_id)
        try:
            data, extra = prepared(self.store, config)
            held.listener.info.update(extra)
            held.digits = datasets.digit_shaped(data.image_shape, data.class_names)
            self.trainer.start(run_id, config, data, held.listener, own_data=bool(extra))
        except (ConfigError, datasets.DatasetError) as exc:
            self.close(run_id, Failure(exc.message))
        except Exception as exc:  # noqa: BLE001 - anything else: recorded as the run's failure, the worker lives on
            self.close(run_id, Failure(failure(exc)))

    def collect(self) -> None:
        """Record the runs whose training has ended."""
        for run_id, ending in self.trainer.ended():
            self.close(run_id, ending)

    def close(self, run_id: str, ending: Trained | Failure) -> None:
        """Record how a run in hand ended (unless the store let it go meanwhile, taken for dead: then it
        is left be), then let it go."""
        held, retry = self.in_hand[run_id], self.trainer.retry_seconds
        if run_id not in self.heartbeat.lost:
            try:
                if isinstance(ending, Trained):
                    record(self.store, run_id, held.config, held.digits, ending.outcome, ending.layers,
                           settle=held.listener.settle, retry_seconds=retry)
                else:
                    end(self.store, run_id, ending.status, ending.message, settle=held.listener.settle,
                        retry_seconds=retry)
            except Exception as exc:  # noqa: BLE001 - what keeping the run raised is its failure
                end(self.store, run_id, "failed", failure(exc), settle=held.listener.settle, retry_seconds=retry)
        self.let_go(run_id)

    def let_go(self, run_id: str) -> None:
        """No longer in hand, nor beaten for; once recorded, its life file (and any last word in it)
        has served."""
        self.heartbeat.release(run_id)
        del self.in_hand[run_id]
        try:
            if self.store.get(run_id)["status"] != "running":
                self.store.life_file(run_id).unlink(missing_ok=True)
        except (StoreError, OSError):     # deleted meanwhile, or the folder gone: nothing to tidy
            pass

    def interrupt_all(self) -> None:
        """The worker is ending: every run in hand is given up and marked interrupted."""
        for run_id in list(self.in_hand):
            self.trainer.cancel(run_id)
            n = len(self.store.epochs(run_id))
            end(self.store, run_id, "interrupted", Message("run.interrupted", epochs=n), retry_seconds=0)
            self.let_go(run_id)

    def fill(self) -> bool:
        """Claim queued runs while the trainer has room and start them; whether any started."""
        started = False
        while len(self.in_hand) < self.trainer.capacity():
            try:
                self.store.reap()
                run = self.store.claim_next(os.getpid())
            except StoreError:         # the store cannot be written (disk full): nothing can start now
                return started
            if run is None:
                return started
            self.take(run)
            started = True
        return started

    def drain(self, idle_exit: float) -> None:
        """Start queued runs and record their ends until nothing has been started or in hand for
        idle_exit seconds."""
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < idle_exit:
            started = self.fill()
            self.collect()
            if started or self.in_hand:
                idle_since = time.monotonic()
            if not started:
                time.sleep(POLL_SECONDS)


def execute(store: Store, run_id: str, echo=None) -> dict:
    """Train a run that is marked running, here and now, record everything, and return the finished
    run. A heartbeat says the run is alive throughout, so its death is noticed within seconds."""
    worker = Worker(store, InProcessTrainer(), echo)
    with worker.working():
        worker.take(store.get(run_id))
        worker.collect()
    return store.get(run_id)


def _interrupt(signum, frame):
    raise _Interrupted()


def serve(home: str, slot: str, trainer_for: Callable[[Store], Trainer | None], idle_exit: float) -> None:
    """Be the worker holding `slot` over the store at `home`: train queued runs with the trainer
    `trainer_for(store)` makes (None: there is none, and it has said why to the runs waiting) until
    nothing has been queued or in hand for idle_exit seconds. SIGTERM ends it."""
    os.environ["DIGITDASH_HOME"] = home
    lock = SlotLock(Path(home), slot)
    if not lock.acquire(LOCK_WAIT_SECONDS):
        return  # another live worker holds this slot
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        store = Store(home)
        trainer = trainer_for(store)
        if trainer is None:
            return
        worker = Worker(store, trainer)
        with worker.working():
            while True:
                worker.drain(idle_exit)
                # Let go of the slot, then look once more: a run submitted while this worker was
                # deciding to exit saw the slot taken and started no worker of its own.
                lock.release()
                if not store.queue() or not lock.acquire(0):
                    break
    except _Interrupted:
        pass             # its runs in hand are marked interrupted
    finally:
        lock.close()


def worker_main(home: str, slot: int = 0, idle_exit: float = IDLE_EXIT_SECONDS) -> None:
    """Claim queued runs and train them in this process, one at a time, until the queue has been
    empty for idle_exit seconds."""
    try:   # training is background work: the server's page renders come first
        os.nice(int(os.environ.get("DIGITDASH_WORKER_NICE", "10")))
    except (OSError, ValueError):
        pass
    serve(home, str(slot), lambda store: InProcessTrainer(), idle_exit)
