"""Runs through a real local Ray (2 CPUs): the dispatcher process, Ray tasks, the relay actor, the
object store. Nothing is mocked; the store stays the one record."""
import json
import os
import signal
import time

import numpy as np
import pytest
from test_class import A, B, write_limits

from digitdash.plan.config import ConfigError, RunConfig
from digitdash.plan.limits import LimitError
from digitdash.runs.store import ACTIVE, Store
from digitdash.workers.ray_runner import CAPACITY_FILE, RayRunner

from conftest import cli, finished, seed_cache, wait_for

SMALL = RunConfig(layers=(64,), epochs=2, batch_size=64)
LONG = SMALL.replace(epochs=500)


@pytest.fixture(scope="module")
def ray_runner(tmp_path_factory, mnist5k_cached):
    """One dispatcher and one local Ray for the module (starting them costs seconds)."""
    home = seed_cache(tmp_path_factory.mktemp("ray-home"), mnist5k_cached)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITDASH_RAY_LOCAL_CPUS", "2")
        runner = RayRunner(Store(home))
        yield runner
        for run in runner.store.runs(ACTIVE):
            runner.stop(run["id"])
        runner.shutdown()


def _running_with_epochs(store, run_id, n=1):
    return lambda: store.get(run_id)["status"] == "running" and len(store.epochs(run_id)) >= n


@pytest.mark.slow
def test_a_run_trains_through_ray_and_its_epochs_arrive_while_it_trains(ray_runner):
    store = ray_runner.store
    run_id = ray_runner.submit(SMALL.replace(epochs=40), name="through ray")
    assert store.get(run_id)["status"] in ("queued", "running")          # submit returned at once
    wait_for(_running_with_epochs(store, run_id))                        # live, before the end
    assert store.batches(run_id), "per-batch losses arrive while it trains"
    run = wait_for(finished(store, run_id))
    assert run["status"] == "done", run["message"]
    assert [e["epoch"] for e in store.epochs(run_id)] == list(range(1, 41))
    res = run["results"]
    assert 0.8 < res["test_accuracy"] <= 1 and np.array(res["confusion"]["test"]).sum() == 1000
    assert store.model_path(run_id) is not None and store.has_arrays(run_id, "layers")
    assert store.has_arrays(run_id, "misclassified") and store.has_arrays(run_id, "initial")
    assert 0 < res["drawings_accuracy"] <= 1                    # read on the app's machine, from the model
    assert run["info"]["runner"] == "ray" and run["info"]["task_pid"] != os.getpid()
    shown = cli("show", run_id, "--json", home=store.home)
    assert shown.returncode == 0, shown.stderr
    shown = json.loads(shown.stdout)
    assert shown["runner"] == "ray" and shown["node"] and shown["device"].startswith("CPU")


@pytest.mark.slow
def test_stop_works_through_ray_and_keeps_the_weights(ray_runner):
    store = ray_runner.store
    run_id = ray_runner.submit(LONG)
    wait_for(_running_with_epochs(store, run_id))
    assert ray_runner.stop(run_id) == "running"
    run = wait_for(finished(store, run_id), timeout=60)
    assert run["status"] == "stopped" and "weights learnt so far are kept" in run["message"]
    assert 1 <= len(store.epochs(run_id)) < 500 and store.model_path(run_id) is not None


@pytest.mark.slow
def test_a_killed_ray_worker_leaves_the_run_interrupted_with_its_epochs(ray_runner):
    store = ray_runner.store
    run_id = ray_runner.submit(LONG)
    wait_for(_running_with_epochs(store, run_id, 2))
    os.kill(store.get(run_id)["info"]["task_pid"], signal.SIGKILL)
    run = wait_for(finished(store, run_id), timeout=60)
    assert run["status"] == "interrupted" and "ended unexpectedly" in run["message"]
    assert len(store.epochs(run_id)) >= 2 and store.model_path(run_id) is None


@pytest.mark.slow
def test_two_runs_train_at_once_and_the_fair_queue_holds(ray_runner):
    store = ray_runner.store
    a1, a2 = (ray_runner.submit(LONG, owner=A, teacher=True) for _ in range(2))   # long: past a student's limits
    wait_for(lambda: _running_with_epochs(store, a1)() and _running_with_epochs(store, a2)())   # both at once
    a3, b1 = ray_runner.submit(SMALL, owner=A), ray_runner.submit(SMALL, owner=B)
    assert ray_runner.queue_position(b1) < ray_runner.queue_position(a3)      # B has nothing running
    time.sleep(2)
    assert store.get(a3)["status"] == store.get(b1)["status"] == "queued"   # no room until one ends
    ray_runner.stop(a1)
    wait_for(lambda: store.get(b1)["status"] != "queued")
    assert store.get(a3)["status"] == "queued"                               # B's run went first
    ray_runner.stop(a2)
    for run_id in (a3, b1):
        assert wait_for(finished(store, run_id))["status"] == "done"
    seen = json.loads((store.home / CAPACITY_FILE).read_text())
    assert seen["capacity"] == 2 and seen["nodes"] == 1
    assert seen["datasets_put"] == 1            # mnist-5k went into the object store once for every run


@pytest.mark.slow
def test_the_limits_hold_for_ray_runs(ray_runner, digitdash_home):
    write_limits(digitdash_home, "max_epochs = 5\n")        # the class's limits file (DIGITDASH_HOME)
    before = len(ray_runner.store.runs())
    with pytest.raises(LimitError, match="over the class limit of 5 epochs"):
        ray_runner.submit(SMALL.replace(epochs=6), owner=A)
    assert len(ray_runner.store.runs()) == before


def test_a_bad_ray_setting_is_one_message(monkeypatch, seeded, digitdash_home):
    monkeypatch.setenv("DIGITDASH_RAY_GPU", "2")
    with pytest.raises(ConfigError, match="DIGITDASH_RAY_GPU.*fraction of one GPU per run"):
        RayRunner(Store(digitdash_home))
    monkeypatch.delenv("DIGITDASH_RAY_GPU")
    monkeypatch.setenv("DIGITDASH_RUNNER", "cluster")
    out = cli("train", home=digitdash_home)
    assert out.returncode == 2 and "DIGITDASH_RUNNER" in out.stderr and "local, ray" in out.stderr


@pytest.mark.slow
def test_train_runner_ray_on_the_command_line(seeded, digitdash_home):
    out = cli("train", "--runner", "ray", "--set", "layers=32", "--set", "epochs=2", "--json", home=digitdash_home)
    assert out.returncode == 0, out.stderr
    assert "through Ray" in out.stderr and "epoch 2/2" in out.stderr
    run = json.loads(out.stdout)
    assert run["status"] == "done" and run["runner"] == "ray" and run["test_accuracy"] > 0.5


def test_ray_out_of_reach_fails_the_waiting_run_with_one_message(monkeypatch, seeded, digitdash_home):
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:notaport")
    out = cli("train", "--runner", "ray", "--set", "layers=8", "--set", "epochs=1", home=digitdash_home)
    assert out.returncode == 1, out.stderr
    assert "failed" in out.stdout and "Ray could not be reached (RAY_ADDRESS 127.0.0.1:notaport)" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    (run,) = Store(digitdash_home).runs()
    assert run["status"] == "failed" and "DIGITDASH_RUNNER=local" in run["message"]


@pytest.mark.slow
def test_pause_a_new_rate_and_resume_reach_a_ray_task(ray_runner):
    from digitdash.learning import controls
    store = ray_runner.store
    run_id = ray_runner.submit(LONG)
    wait_for(_running_with_epochs(store, run_id))
    pause = controls.ask(store, run_id, "pause")
    wait_for(lambda: controls.paused(controls.changes(store, run_id)), timeout=30)
    rate = controls.ask(store, run_id, "lr", 0.05)
    controls.ask(store, run_id, "resume")
    wait_for(lambda: not controls.paused(controls.changes(store, run_id))
             and all(c["applied"] for c in controls.changes(store, run_id)), timeout=30)
    done = {c["seq"]: c for c in controls.changes(store, run_id)}
    wait_for(lambda: len(store.epochs(run_id)) >= done[rate]["epoch"] + 1)
    ray_runner.stop(run_id)
    assert wait_for(finished(store, run_id), timeout=60)["status"] == "stopped"
    assert store.epochs(run_id)[-1]["lr"] == pytest.approx(0.05) and done[pause]["step"] is not None
