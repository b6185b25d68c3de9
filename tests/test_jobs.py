"""The training engine end to end: queue -> spawned worker -> store, on real MNIST digits."""
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from digitdash.plan.config import RunConfig
from digitdash.runs.store import Store
from digitdash.workers.runners import LocalRunner

from conftest import cli, finished, wait_for

# Real workers train: each one is a fresh interpreter loading TensorFlow (seconds). Their home's cache
# already holds mnist-5k, as a server's does after its first run.
pytestmark = pytest.mark.usefixtures("seeded")

SMALL = RunConfig(layers=(64,), epochs=2, batch_size=64)


@pytest.fixture
def runner():
    """The pages' runner: as many workers as the machine gives (default_workers)."""
    runner = LocalRunner(Store())
    yield runner
    runner.shutdown(timeout=10)


@pytest.fixture
def one_worker():
    """One worker: one run at a time, and a second worker starts only when the first is gone."""
    runner = LocalRunner(Store(), workers=1)
    yield runner
    runner.shutdown(timeout=10)


@pytest.mark.slow
def test_a_run_goes_through_queue_worker_and_store(one_worker):
    runner = one_worker
    store = runner.store
    run_id = runner.submit(SMALL, name="first")
    assert store.get(run_id)["status"] in ("queued", "running")  # submit returned at once
    run = wait_for(finished(store, run_id))
    assert run["status"] == "done", run["message"]
    epochs = store.epochs(run_id)
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(0 < e["accuracy"] <= 1 and e["val_loss"] > 0 and e["seconds"] > 0 for e in epochs)
    assert epochs[1]["loss"] < epochs[0]["loss"]
    res = run["results"]
    assert 0.8 < res["test_accuracy"] <= 1 and res["epochs_run"] == 2
    test_cm = np.array(res["confusion"]["test"])
    assert test_cm.shape == (10, 10) and test_cm.sum() == 1000
    assert np.array(res["confusion"]["train"]).sum() == 3000 and np.array(res["confusion"]["val"]).sum() == 1000
    assert abs(np.trace(test_cm) / 1000 - res["test_accuracy"]) < 1e-6
    assert len(res["report"]) == 10 and all(0 <= r["f1"] <= 1 for r in res["report"])
    wrong = store.load_arrays(run_id, "misclassified")
    assert len(wrong["index"]) == res["misclassified_count"] == 1000 - np.trace(test_cm)
    assert np.all(wrong["true"] != wrong["pred"]) and wrong["images"].shape[1:] == (28, 28, 1)
    assert store.model_path(run_id) is not None and run["device"].startswith("CPU")
    assert run["params"] == 784 * 64 + 64 + 64 * 10 + 10


@pytest.mark.slow
def test_stop_ends_within_a_batch_and_keeps_the_weights(one_worker):
    runner = one_worker
    store = runner.store
    run_id = runner.submit(SMALL.replace(epochs=500))
    wait_for(lambda: len(store.epochs(run_id)) >= 1)
    asked = time.monotonic()
    assert runner.stop(run_id) == "running"
    run = wait_for(finished(store, run_id))
    assert time.monotonic() - asked < 30
    assert run["status"] == "stopped" and "weights learnt so far are kept" in run["message"]
    assert 1 <= len(store.epochs(run_id)) < 500
    assert run["results"]["test_accuracy"] > 0.5 and store.model_path(run_id) is not None


@pytest.mark.slow
def test_a_queued_run_can_be_cancelled_and_positions_are_shown(one_worker):
    runner = one_worker
    store = runner.store
    first = runner.submit(SMALL.replace(epochs=500))
    second = runner.submit(SMALL)
    third = runner.submit(SMALL)
    assert runner.queue_position(third) in (2, 3)
    assert runner.stop(second) == "stopped"
    assert runner.queue_position(third) in (1, 2)
    wait_for(lambda: store.get(first)["status"] == "running")
    runner.stop(first)
    wait_for(finished(store, third))
    assert store.get(second)["message"].startswith("Cancelled") and store.epochs(second) == []


@pytest.mark.slow
def test_a_diverging_run_ends_as_diverged(one_worker):
    runner = one_worker
    store = runner.store
    run_id = runner.submit(SMALL.replace(optimizer="sgd", learning_rate=100.0, epochs=3))
    run = wait_for(finished(store, run_id))
    assert run["status"] == "diverged"
    assert "Lower the learning rate (now 100)" in run["message"]
    assert store.model_path(run_id) is None


@pytest.mark.slow
def test_a_worker_killed_with_sigkill_leaves_the_run_interrupted(one_worker):
    runner = one_worker     # no other worker is left to take the next run: a fresh one must start
    store = runner.store
    run_id = runner.submit(SMALL.replace(epochs=500))
    wait_for(lambda: len(store.epochs(run_id)) >= 2)
    pid = store.get(run_id)["worker_pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: store.reap() or store.get(run_id)["status"] == "interrupted", timeout=30)
    run = store.get(run_id)
    assert run["status"] == "interrupted" and "ended unexpectedly" in run["message"]
    assert len(store.epochs(run_id)) >= 2 and store.model_path(run_id) is None
    # the next submission starts a fresh worker and the queue goes on
    again = runner.submit(SMALL.replace(epochs=1))
    assert wait_for(finished(store, again))["status"] == "done"


@pytest.mark.slow
def test_submissions_from_two_threads_at_once_are_all_queued_and_run_in_order(runner):
    store = runner.store
    ids, barrier = [], threading.Barrier(2)

    def submit(tag):
        barrier.wait()
        for i in range(2):
            ids.append(runner.submit(SMALL.replace(epochs=1, seed=i), name=f"{tag}{i}"))
    threads = [threading.Thread(target=submit, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 4
    runs = [wait_for(finished(store, i)) for i in ids]
    assert all(r["status"] == "done" for r in runs)
    by_seq = sorted(runs, key=lambda r: r["seq"])
    assert len({r["seq"] for r in runs}) == 4
    assert [r["started"] for r in by_seq] == sorted(r["started"] for r in by_seq)


@pytest.mark.slow
def test_cli_train_then_runs(digitdash_home):
    out = cli("train", "--dataset", "mnist-5k", "--preset", "mlp-512", "--set", "epochs=2", "--json",
               home=digitdash_home)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "done" and result["epochs_run"] == 2 and result["test_accuracy"] > 0.85
    assert "epoch 2/2" in out.stderr
    runs = json.loads(cli("runs", "--json", home=digitdash_home).stdout)
    assert [(r["id"], r["status"]) for r in runs] == [(result["id"], "done")]
    shown = json.loads(cli("show", result["id"], "--json", home=digitdash_home).stdout)
    assert len(shown["epochs"]) == 2 and len(shown["results"]["report"]) == 10
    assert cli("delete", result["id"], home=digitdash_home).returncode == 0
    assert json.loads(cli("runs", "--json", home=digitdash_home).stdout) == []


@pytest.mark.parametrize("args,needle", [
    (("train", "--set", "learning_rate=-1"), "learning_rate=-1.0 is not allowed"),
    (("train", "--set", "neurons=5"), "neurons"),
    (("train", "--set", "epochs"), "KEY=VALUE"),
    (("train", "--preset", "mlp-9"), "invalid choice"),
    (("train", "--dataset", "idx:/nowhere"), "does not exist"),
    (("train", "--set", "output_units=5"), "output_units=5"),
    (("show", "nope"), "No run 'nope'"),
    (("delete", "nope"), "No run 'nope'"),
    (("predict", "--run", "nope", "x.png"), "No run 'nope'"),
    (("frobnicate",), "invalid choice"),
])
def test_cli_bad_input_exits_2_with_one_line(args, needle, digitdash_home):
    out = cli(*args, home=digitdash_home)
    assert out.returncode == 2
    lines = [l for l in out.stderr.splitlines() if l.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], out.stderr[-1500:]
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_a_worker_about_to_exit_still_takes_a_run_queued_at_that_moment(digitdash_home, monkeypatch):
    """The slot looks taken when the run is queued, so no new worker starts: the leaving one
    must find the run after letting go of its slot."""
    from digitdash.workers import worker
    store = Store(digitdash_home)
    run_id = store.create(SMALL.replace(epochs=1))
    calls = []

    def drain_once(self, idle):
        calls.append(1)
        if len(calls) > 1:             # the second pass trains what the first one missed
            return real_drain(self, 0.5)
    real_drain = worker.Worker.drain
    monkeypatch.setattr(worker.Worker, "drain", drain_once)
    worker.worker_main(str(digitdash_home), slot=0, idle_exit=0.5)
    assert len(calls) == 2 and store.get(run_id)["status"] == "done"
