"""Where runs go to be trained: the Runner interface and the runners on this machine.

`Runner` is the one interface pages and the command line use: `LocalRunner` runs jobs in worker
processes on this machine (the pages), `ForegroundRunner` trains each one at once in this process
(the command line). `QueueRunner` is what every runner that queues in the store shares: the local
one here and `ray_runner.RayRunner` (Ray tasks); `choice.chosen` picks one.
"""
from __future__ import annotations

import os
import subprocess
import threading

from digitdash.plan.config import RunConfig
from digitdash.runs.store import Store
from digitdash.workers import admission
from digitdash.workers.processes import slot_taken, spawn_worker
from digitdash.workers.settings import default_workers
from digitdash.workers.worker import execute


class Runner:
    """Where runs go to be trained."""

    store: Store

    def admit(self, configs: list[RunConfig], owner: str | None = None, teacher: bool = False) -> None:
        """Refuse, before any run exists, configs that cannot be built or that break the teacher's
        limits for a student (admission.admit)."""
        admission.admit(self.store, configs, owner, teacher)

    def submit(self, config: RunConfig, name: str | None = None, owner: str | None = None,
               group: str | None = None, teacher: bool = False) -> str:
        raise NotImplementedError

    def stop(self, run_id: str, by: str | None = None, teacher: bool = False) -> str:
        """Cancel a waiting run, or ask a running one to stop (a stop file its trainer watches)."""
        return self.store.request_stop(run_id, by=by, teacher=teacher)

    def queue_position(self, run_id: str) -> int | None:
        raise NotImplementedError


class QueueRunner(Runner):
    """Runs wait in the store's fair queue until a worker process claims them: the queue order, the
    limits, cancelling and stopping are the store's, whoever trains. `slots` names the worker
    processes that serve the queue; `ensure` starts those not running."""

    def __init__(self, store: Store | None = None):
        self.store = store or Store()
        self._children: list[subprocess.Popen] = []
        self._children_lock = threading.Lock()      # the runner is shared by every session of the server

    def submit(self, config, name=None, owner=None, group=None, teacher=False) -> str:
        self.admit([config], owner, teacher)
        run_id = self.store.create(config, name=name, owner=owner, group=group)
        self.ensure()
        return run_id

    def queue_position(self, run_id: str) -> int | None:
        return self.store.queue_position(run_id)

    def slots(self) -> list[tuple[str, list[str], dict]]:
        """The worker processes that serve the queue, each as (its slot, the `worker` command's
        arguments, its environment)."""
        raise NotImplementedError

    def ensure(self) -> list[subprocess.Popen]:
        """Start a worker process for every slot that has none; returns the processes started."""
        self.store.reap()
        with self._children_lock:
            self._children = [p for p in self._children if p.poll() is None]  # reap exited ones
            started = [spawn_worker(self.store.home, slot, args, env) for slot, args, env in self.slots()
                       if not slot_taken(self.store.home, slot)]
            self._children += started
        return started

    def shutdown(self, timeout: float = 30) -> None:
        """End the worker processes this runner started (their runs in hand are marked interrupted)."""
        with self._children_lock:
            children, self._children = self._children, []
        for proc in children:
            if proc.poll() is None:
                proc.terminate()
        for proc in children:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()


class LocalRunner(QueueRunner):
    """Worker processes on this machine: `workers` of them (default_workers()), each with its share
    of the CPU cores."""

    def __init__(self, store: Store | None = None, workers: int | None = None):
        super().__init__(store)
        self.workers = workers if workers is not None else default_workers()

    def slots(self) -> list[tuple[str, list[str], dict]]:
        threads = str(max(1, (os.cpu_count() or 1) // self.workers))
        return [(str(slot), ["--slot", str(slot)], {"DIGITDASH_TF_THREADS": threads}) for slot in range(self.workers)]


class ForegroundRunner(Runner):
    """Trains each submitted run at once, in this process: submit returns when the run has ended.
    `on_start(run_id, config)` and `on_epoch(config, row)` let the caller show progress."""

    def __init__(self, store: Store | None = None, on_start=None, on_epoch=None):
        self.store = store or Store()
        self.on_start, self.on_epoch = on_start, on_epoch

    def submit(self, config, name=None, owner=None, group=None, teacher=False) -> str:
        self.admit([config], owner, teacher)
        run_id = self.store.create(config, name=name, owner=owner, group=group, status="running")
        self.store.update(run_id, worker_pid=os.getpid())
        if self.on_start:
            self.on_start(run_id, config)
        execute(self.store, run_id, echo=(lambda row: self.on_epoch(config, row)) if self.on_epoch else None)
        return run_id

    def queue_position(self, run_id: str) -> int | None:
        return None           # nothing waits: a run trains as it is submitted
