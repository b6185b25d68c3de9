"""Run kinds beside Keras: each through the queue, worker and store; subsampling large sets."""
import dataclasses

import numpy as np
import pytest

from digitdash.learning import training
from digitdash.plan.config import PRESETS
from digitdash.plan.kinds import KINDS
from digitdash.runs.store import Store
from digitdash.workers.runners import LocalRunner

from conftest import finished, wait_for


@pytest.mark.slow
def test_every_run_kind_goes_through_queue_worker_and_store(seeded):
    runner = LocalRunner(Store())
    kinds = ["random-forest", "sklearn-mlp", "logreg", "svc", "numpy-mlp"]
    ids = {k: runner.submit(PRESETS[k].replace(epochs=min(PRESETS[k].epochs, 3))) for k in kinds}
    try:
        runs = {kind: wait_for(finished(runner.store, run_id), timeout=300) for kind, run_id in ids.items()}
    finally:
        runner.shutdown(timeout=10)
    for kind, run_id in ids.items():
        run = runs[kind]
        assert run["status"] == "done", (kind, run["message"])
        assert run["results"]["test_accuracy"] > 0.8, kind
        assert np.array(run["results"]["confusion"]["test"]).sum() == 1000
        assert len(run["results"]["report"]) == 10
        epochs = runner.store.epochs(run_id)
        assert len(epochs) == (3 if kind in ("sklearn-mlp", "numpy-mlp") else 1)
        assert runner.store.model_path(run_id).suffix == (".npz" if kind == "numpy-mlp" else ".joblib")
    assert runner.store.get(ids["logreg"])["params"] == 7850
    assert runner.store.get(ids["random-forest"])["params"] is None


def test_large_training_sets_are_subsampled_and_the_run_says_so(mnist5k, monkeypatch):
    monkeypatch.setitem(KINDS, "logreg", dataclasses.replace(KINDS["logreg"], subsample=500))
    out = training.train(PRESETS["logreg"], mnist5k, training.Listener())
    assert "subsample of 500 of the 3,000" in out.message
