"""Pause, resume and a new learning rate while a run trains, through a real worker and the store."""
import time

import pytest

from digitdash.learning import controls
from digitdash.plan.config import ConfigError, RunConfig
from digitdash.runs.store import Store, StoreError
from digitdash.workers.runners import LocalRunner

from conftest import finished, wait_for

LONG = RunConfig(layers=(64,), epochs=500, batch_size=64)
A = "s-aaaaaaaaaaaaaaaa"


def applied(store, run_id, seq):
    return lambda: next((c for c in controls.changes(store, run_id) if c["seq"] == seq and c["applied"]), None)


@pytest.mark.slow
def test_pause_holds_the_run_a_new_rate_takes_effect_and_resume_goes_on(seeded, digitdash_home):
    runner = LocalRunner(Store(digitdash_home), workers=1)
    store = runner.store
    run_id = runner.submit(LONG, owner=A, teacher=True)
    wait_for(lambda: len(store.epochs(run_id)) >= 2)
    pause = controls.ask(store, run_id, "pause", by=A)
    at = wait_for(applied(store, run_id, pause))
    assert controls.paused(controls.changes(store, run_id))
    held = len(store.epochs(run_id))
    time.sleep(2.5)
    assert len(store.epochs(run_id)) <= held + 1 and store.get(run_id)["status"] == "running"   # held (the epoch in hand may end)
    rate = controls.ask(store, run_id, "lr", 0.05, by=A)
    resume = controls.ask(store, run_id, "resume", by=A)
    resumed = wait_for(applied(store, run_id, resume))
    changed = wait_for(applied(store, run_id, rate))
    wait_for(lambda: len(store.epochs(run_id)) >= changed["epoch"] + 1)
    runner.stop(run_id)
    run = wait_for(finished(store, run_id))
    epochs = store.epochs(run_id)
    assert run["status"] == "stopped" and not controls.paused(controls.changes(store, run_id))
    assert epochs[0]["lr"] == pytest.approx(0.001) and epochs[-1]["lr"] == pytest.approx(0.05)   # kept with the epochs
    assert at["epoch"] >= 3 and at["step"] > 0 and changed["step"] >= at["step"]
    # the pause is not counted as an epoch's training: counted, the epoch that held it (the third or
    # later) would take at least the quickest epoch's time plus the pause (a busy machine makes every
    # epoch slower alike; the first epoch, which builds the graph, is left out)
    paused_for = resumed["applied"] - at["applied"]
    seconds = [e["seconds"] for e in epochs[1:]]
    assert paused_for >= 2.5 and max(seconds) < min(seconds) + paused_for


def test_changes_that_cannot_be_taken_are_one_message(digitdash_home):
    store = Store(digitdash_home)
    waiting = store.create(RunConfig(layers=(8,)), owner=A)
    with pytest.raises(controls.ControlError, match="only a running run"):
        controls.ask(store, waiting, "pause", by=A)
    running = store.create(RunConfig(layers=(8,), lr_schedule="one-cycle"), owner=A, status="running")
    with pytest.raises(StoreError):
        controls.ask(store, running, "pause", by="s-someone-else")           # not the owner
    with pytest.raises(controls.ControlError, match="one-cycle schedule"):
        controls.ask(store, running, "lr", 0.01, by=A)
    plain = store.create(RunConfig(layers=(8,)), owner=A, status="running")
    for bad in (0, -1, "nan", "lots", 5000):
        with pytest.raises(ConfigError, match="above 0 and at most 1000"):
            controls.ask(store, plain, "lr", bad, by=A)
    forest = store.create(RunConfig(architecture="random-forest"), owner=A, status="running")
    with pytest.raises(controls.ControlError, match="Only mlp and cnn"):
        controls.ask(store, forest, "pause", by=A)
    assert controls.changes(store, plain) == []                              # nothing recorded


def test_a_run_takes_a_bounded_number_of_changes(digitdash_home, monkeypatch):
    monkeypatch.setattr(controls, "MAX_CHANGES", 3)
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(layers=(8,)), owner=A, status="running")
    for kind in ("pause", "resume", "pause"):
        controls.ask(store, run_id, kind, by=A)
    with pytest.raises(controls.ControlError, match="3 changes already"):
        controls.ask(store, run_id, "resume", by=A)
    assert len(controls.changes(store, run_id)) == 3
