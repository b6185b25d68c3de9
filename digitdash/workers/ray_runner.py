"""Runs trained as Ray tasks, on this machine or on a cluster, with the store as the one record.

`RayRunner` queues runs in the store like `LocalRunner`, so the fair queue, the limits, stop and
queue positions are the same. One dispatcher process on the app's machine (`python -m digitdash
worker --ray`, started on the first submit) connects to Ray (RAY_ADDRESS, or with none a local Ray
started for that process) and is a worker like a local one (worker.serve), whose trainer,
`RayTrainer`, sends each run it claims as a Ray task while the cluster has room. Nothing needs a
shared filesystem: each dataset goes into Ray's object store once; a task's progress comes through
the relay actor (ray_task) into the store, so the browser's live curves look the same; the trained
model comes back as the task's result.

Settings: DIGITDASH_RAY_GPU (a fraction of a GPU per run, e.g. 0.25) or DIGITDASH_RAY_CPUS (CPUs
per run, default 1); DIGITDASH_WORKERS caps the runs in flight (default: what the cluster holds);
DIGITDASH_RAY_LOCAL_CPUS the CPUs of a local Ray. When Ray cannot be reached, the waiting runs fail
with one message saying so.
"""
from __future__ import annotations

import json
import os
import time

from digitdash import paths
from digitdash.digits import datasets
from digitdash.i18n import Message
from digitdash.plan.config import ConfigError
from digitdash.runs.store import Store
from digitdash.workers.ray_task import Relay, train_task
from digitdash.workers.recording import failure
from digitdash.workers.runners import QueueRunner
from digitdash.workers.settings import whole_number
from digitdash.workers.worker import IDLE_EXIT_SECONDS, Failure, Trained, Trainer, serve

SLOT = "ray"                 # the dispatcher's lock: worker-ray.lock in the store's folder
CAPACITY_FILE = "ray.json"   # what the dispatcher last saw of the cluster (for the pages' wait estimates)
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
    return {"num_cpus": whole_number("DIGITDASH_RAY_CPUS") or 1}


class RayRunner(QueueRunner):
    """Runs go to Ray through the dispatcher; the store stays on this machine."""

    def __init__(self, store: Store | None = None):
        super().__init__(store)
        ray_settings()                               # a bad setting is said at start, not per run

    @property
    def workers(self) -> int:
        """Runs that train at once: what the dispatcher last found room for (1 before it looked)."""
        try:
            return max(1, int(json.loads((self.store.home / CAPACITY_FILE).read_text())["capacity"]))
        except (OSError, ValueError, KeyError, TypeError):
            return whole_number("DIGITDASH_WORKERS") or 1

    def slots(self) -> list[tuple[str, list[str], dict]]:
        return [(SLOT, ["--ray"], {})]


class RayTrainer(Trainer):
    """Sends claimed runs to Ray as tasks while the cluster has room: their progress comes in through
    the relay, their ends as the tasks' results."""

    # An end the store cannot take (disk full) is tried once: the dispatcher serves every run in
    # flight. The run's life file keeps the last word; the run, no longer beaten for, is ended by
    # the pages (store.reap) as not saved once the store can be written.
    retry_seconds = 0.0

    def __init__(self, store: Store):
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        self.store, self.ray = store, ray
        node = ray.get_runtime_context().get_node_id()
        self.relay = ray.remote(num_cpus=0)(Relay).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True)).remote()
        self.resources = ray_settings()
        self.task = ray.remote(max_retries=0, **self.resources)(train_task)
        self.threads = max(1, int(self.resources.get("num_cpus", 1)))
        self.flight: dict[str, dict] = {}     # run id -> {"ref", "listener", "sent": the changes sent}
        self.data_refs: dict[str, tuple] = {}   # dataset name -> (the Dataset, its ref in the object store)
        self.puts = 0                          # datasets placed in the object store (one per dataset)
        self._capacity, self._looked, self._seen = 1, -CAPACITY_SECONDS, {}

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
            self._capacity = whole_number("DIGITDASH_WORKERS") or max(1, room)
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

    def start(self, run_id, config, data, listener, own_data) -> None:
        ref = self.ray.put(data) if own_data else self.data_ref(config.dataset, data)
        self.flight[run_id] = {"ref": self.task.remote(config, ref, self.relay, run_id, self.threads),
                               "listener": listener, "sent": set()}

    def relay_progress(self) -> None:
        """Progress into the store; stop requests (the stop file) and changes out to the tasks."""
        for run_id, events in self.ray.get(self.relay.take.remote()).items():
            listener = self.flight[run_id]["listener"] if run_id in self.flight else None
            for kind, value in events if listener else ():
                if kind in ("batch", "applied"):
                    getattr(listener, kind)(*value)
                else:
                    getattr(listener, kind)(value)
            if listener:
                listener.flush()
        stops = [run_id for run_id, flight in self.flight.items() if flight["listener"].should_stop()]
        if stops:
            self.relay.stop.remote(stops)
        for run_id, flight in self.flight.items():     # pause, resume, a new rate: read as a local worker does
            changes = [c for c in flight["listener"].controls() if c["seq"] not in flight["sent"]]
            if changes:
                flight["sent"].update(c["seq"] for c in changes)
                self.relay.change.remote(run_id, changes)

    def ended(self) -> list[tuple[str, Trained | Failure]]:
        self.relay_progress()
        refs = {flight["ref"]: run_id for run_id, flight in self.flight.items()}
        if not refs:
            return []
        ready, _ = self.ray.wait(list(refs), num_returns=len(refs), timeout=0)
        if ready:
            self.relay_progress()              # what the tasks sent before they ended
        return [(refs[ref], self.result(refs[ref])) for ref in ready]

    def result(self, run_id: str) -> Trained | Failure:
        """How a run's finished task ended; the run is no longer in flight."""
        ref = self.flight.pop(run_id)["ref"]
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:        # raised in our code: a failure
            return Failure(failure(exc.cause if exc.cause else exc))
        except self.ray.exceptions.RayError:   # worker or node lost, object gone: as a killed worker
            return Failure(Message("run.worker_died", epochs=len(self.store.epochs(run_id))), "interrupted")

    def cancel(self, run_id: str) -> None:
        flight = self.flight.pop(run_id, None)
        if flight is not None:
            self.ray.cancel(flight["ref"], force=True)


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
        ray.init(num_cpus=whole_number("DIGITDASH_RAY_LOCAL_CPUS"), include_dashboard=False,
                 log_to_driver=False, logging_level="warning")
    return ray


def connected(store: Store) -> RayTrainer | None:
    """A RayTrainer over the Ray `connect` reaches; None when there is no Ray, every waiting run
    told why (none waits forever)."""
    try:
        connect()
        return RayTrainer(store)
    except Exception as exc:  # noqa: BLE001 - said to the waiting runs, never a traceback
        address = os.environ.get("RAY_ADDRESS", "").strip() or "local"
        reason = failure(exc).params["reason"].splitlines()[0][:200]
        for run_id in store.queue():
            store.finish(run_id, "failed", Message("run.ray_unreachable", address=address, reason=reason))
        return None


def dispatcher_main(home: str, idle_exit: float = IDLE_EXIT_SECONDS) -> None:
    """Send queued runs to Ray until nothing has been queued or in flight for idle_exit seconds."""
    serve(home, SLOT, connected, idle_exit)
