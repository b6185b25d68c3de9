"""Run kinds beside Keras, the NumPy network's gradients, and families of experiments."""
import json

import numpy as np
import pytest

from digitdash import baselines, experiments, training
from digitdash.config import PRESETS, RunConfig
from digitdash.jobs import LocalRunner
from digitdash.numpy_mlp import NumpyMLP, numeric_gradient
from digitdash.store import Store

from conftest import wait_for
from test_jobs import _cli, finished


def test_numpy_backpropagation_matches_finite_differences():
    rng = np.random.default_rng(1)
    x, y = rng.random((16, 20)), rng.integers(0, 5, 16)
    net = NumpyMLP([20, 12, 7, 5], seed=3)
    grads_w, _ = net.gradients(x, y)
    for layer, g in enumerate(grads_w):
        for _ in range(6):
            index = tuple(int(rng.integers(0, n)) for n in g.shape)
            numeric = numeric_gradient(net, x, y, layer, index)
            assert abs(numeric - g[index]) <= 1e-7 + 1e-5 * abs(numeric), (layer, index)


def test_numpy_network_uses_xavier_init_and_learns(mnist5k):
    net = NumpyMLP([784, 128, 10], seed=0)
    limit = np.sqrt(6 / (784 + 128))
    assert np.abs(net.weights[0]).max() <= limit and net.params == 784 * 128 + 128 + 1290
    out = training.train(PRESETS["numpy-mlp"].replace(epochs=3), mnist5k, training.Listener())
    assert out.status == "done" and out.results["test_accuracy"] > 0.85


def test_every_run_kind_goes_through_queue_worker_and_store():
    runner = LocalRunner(Store())
    kinds = ["random-forest", "sklearn-mlp", "logreg", "svc", "numpy-mlp"]
    ids = {k: runner.submit(PRESETS[k].replace(epochs=min(PRESETS[k].epochs, 3))) for k in kinds}
    for kind, run_id in ids.items():
        run = wait_for(finished(runner.store, run_id), timeout=300)
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
    monkeypatch.setitem(baselines.SUBSAMPLE, "logreg", 500)
    out = training.train(PRESETS["logreg"], mnist5k, training.Listener())
    assert "subsample of 500 of the 3,000" in out.message


def test_a_three_run_experiment_lands_as_one_group():
    runner = LocalRunner(Store())
    base = RunConfig(layers=(16,), epochs=1)
    group, ids = experiments.launch(runner, base, {"activation": ["linear", "relu", "sigmoid"]}, "activation")
    runs = [wait_for(finished(runner.store, i)) for i in ids]
    assert {r["grp"] for r in runs} == {group} and len(ids) == 3
    assert [r["config"].activation for r in runs] == ["linear", "relu", "sigmoid"]
    assert all(r["status"] == "done" for r in runs)


def test_templates_and_two_knob_families():
    base, vary = experiments.template("neurons", "mnist-5k")
    assert [c.layers for c in experiments.expand(base, vary)] == [(216,), (512,), (1024,)]
    for name in ("activation", "initializer", "optimizer", "epochs"):
        assert len(experiments.expand(*experiments.template(name, "mnist-5k"))) == 3
    vary = experiments.parse_vary(["layers=216,512-128", "optimizer=sgd,adam"], RunConfig())
    configs = experiments.expand(RunConfig(), vary)
    assert len(configs) == 4 and configs[1].layers == (216,) and configs[1].optimizer == "adam"
    assert configs[2].layers == (512, 128)


def test_cli_experiment_groups_its_runs(digitdash_home):
    out = _cli("experiment", "--vary", "layers=8,16", "--set", "epochs=1", "--json", home=digitdash_home)
    assert out.returncode == 0, out.stderr[-1500:]
    runs = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(runs) == 2 and runs[0]["group"] == runs[1]["group"] and runs[0]["group"]
    assert [r["config"]["layers"] for r in runs] == [[8], [16]]
