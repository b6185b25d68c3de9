"""The JAX fast path (learning/fast_path.py) against Keras' own fit, on JAX on the CPU.

Keras picks its backend when it is first imported and this test process already uses TensorFlow,
so the training happens in a child process started with KERAS_BACKEND=jax (this file, run as a
script); the test reads what it printed. Skipped where JAX is not installed (requirements-dev.txt
pins it). The plan of a run's calls is checked here, without JAX."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from digitdash.learning import fast_path
from digitdash.plan.config import RunConfig, preset

ROOT = Path(__file__).resolve().parent.parent
NO_JAX = importlib.util.find_spec("jax") is None

SMALL_CNN = dict(architecture="cnn", conv_filters=(8, 16), kernel_size=3, layers=(32,), batch_norm=True,
                 dropout=0.25, augment=True, rotation=8.0, shift=0.08, zoom=0.08, batch_size=128,
                 validation_split=0.1, lr_schedule="one-cycle", learning_rate=0.004)
MLP = dict(layers=(64,), batch_size=64, l2=0.0001)


@pytest.mark.parametrize("images, batch, per_call", [(3000, 64, 11), (1280, 128, 2), (100, 32, 8), (7, 32, 1)])
def test_each_batch_of_an_epoch_is_in_one_call_and_the_short_one_last(images, batch, per_call):
    calls = fast_path.calls(images, batch, per_call)
    steps = -(-images // batch)
    covered = [b for c in calls for b in range(c.first, c.last + 1)]
    assert covered == list(range(steps))
    assert all(c.full + c.short <= per_call for c in calls)
    assert [c.short for c in calls] == [False] * (len(calls) - 1) + [images % batch != 0]


def test_a_call_is_at_most_a_quarter_epoch_and_short_where_its_loop_is_unrolled():
    mlp, cnn = preset("mlp-512"), preset("cnn-basic")
    assert 10 < fast_path.steps_per_call(mlp, 571, 813_056, on_gpu=False) < 571 // 4    # about 0.1 s
    assert fast_path.steps_per_call(mlp, 571, 813_056, on_gpu=True) == 571 // 4
    assert fast_path.steps_per_call(mlp, 3, 813_056, on_gpu=False) == 1
    assert 1 <= fast_path.steps_per_call(cnn, 171, 5_262_080, on_gpu=False) <= fast_path.UNROLLED_MAX
    assert fast_path.steps_per_call(cnn, 171, 5_262_080, on_gpu=True) == 171 // 4
    big = RunConfig(architecture="cnn", conv_filters=(64, 128), layers=(256,), batch_size=256)
    assert fast_path.steps_per_call(big, 100, 40_000_000, on_gpu=False) == 1


def test_tensorflow_runs_keep_fit_and_figures_need_jax(monkeypatch):
    assert not fast_path.usable(preset("mlp-512"))      # this process's backend is TensorFlow
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert fast_path.epoch_figures("mnist-5k") == {}


@pytest.mark.skipif(NO_JAX, reason="JAX is not installed (pip install -r requirements-dev.txt)")
@pytest.mark.slow    # about 30 s on an idle 2-core machine: JAX compiles each network for fit and for the fast path
def test_fast_path_trains_as_fit_does_and_takes_the_controls(seeded):
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT), "DIGITDASH_HOME": str(seeded)}
    out = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert out.returncode == 0 and lines, out.stderr[-3000:]
    seen = json.loads(lines[-1])

    for name in ("mlp", "cnn"):
        same = seen["same_order"][name]
        # training.compiled builds the same network from the same seed for both
        assert same["initial_weights_equal"]
        # the same batches in the same order (shuffle off): the same loss, optimizer, schedule, dropout
        # and augmentation draws, and metrics computed as fit computes them, up to float rounding
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert same["fast"][key] == pytest.approx(same["fit"][key], rel=2e-3, abs=2e-3), (name, key)
        # the dense network's weights come out bit for bit; XLA computes the convolutions' gradients of
        # a compiled call in another order than fit's one-step function, and a difference that small
        # grows over the steps
        assert same["weights_max_diff"] < {"mlp": 1e-6, "cnn": 0.1}[name], name
        assert abs(same["fast"]["test_accuracy"] - same["fit"]["test_accuracy"]) <= 0.005, name

    # through training.train, shuffled (fit with NumPy, the fast path on the device): within noise
    train = seen["train"]
    assert train["fast"]["info"]["fast_path"] == "jax" and "fast_path" not in train["fit"]["info"]
    assert train["fast"]["epochs"] == train["fit"]["epochs"] == 2
    assert abs(train["fast"]["test_accuracy"] - train["fit"]["test_accuracy"]) <= 0.03
    assert train["fast"]["test_loss"] == pytest.approx(train["fit"]["test_loss"], rel=0.3)
    assert train["fast"]["batches_sampled"] >= 1

    # a stop asked before a call's first batch ends the run after that call, mid-epoch
    stop = seen["stop"]
    assert stop["status"] == "stopped" and stop["epochs_recorded"] == 0 and stop["stop_checks"] == 3
    assert stop["steps_per_call"] * 3 < stop["steps_per_epoch"]

    # a new learning rate (near zero) from the second epoch on: the network stops moving there
    lr = seen["lr"]
    assert lr["applied_at_step"] == lr["steps_per_epoch"] and lr["rows_lr"][1] == pytest.approx(1e-9)
    assert lr["rows_lr"][0] == pytest.approx(0.001)
    assert lr["val_loss"][1] == pytest.approx(lr["val_loss"][0], abs=1e-5)
    assert lr["val_loss"][0] != pytest.approx(lr["initial_val_loss"], abs=1e-3)


# ---- the child: KERAS_BACKEND=jax ------------------------------------------------------------------

def _child() -> dict:
    import dataclasses

    import keras
    import numpy as np

    from digitdash.digits import datasets
    from digitdash.learning import fast_path, models, training
    from digitdash.plan.config import RunConfig
    assert keras.backend.backend() == "jax" and fast_path.usable()
    data = datasets.load("mnist-5k")
    seen = {"same_order": {}}

    def accuracy(model):
        probs = model.predict(data.x_test, batch_size=512, verbose=0)
        return float((probs.argmax(1) == data.y_test).mean())

    # 10 whole batches (one shape to compile for fit: the MLP has the short last batch)
    few = dataclasses.replace(data, x_train=data.x_train[:1422], y_train=data.y_train[:1422])
    for name, knobs, images in (("mlp", MLP, data), ("cnn", SMALL_CNN, few)):
        config = RunConfig(**knobs, epochs=2, dataset="mnist-5k")
        training.setup_device(config)
        one = {}
        for way in ("fit", "fast"):
            model, train, val, _, per_call = training.compiled(config, images, on_gpu=False)
            one[f"initial_{way}"] = models.initial_kernels(model)
            if way == "fit":
                history = model.fit(*train, batch_size=config.batch_size, epochs=config.epochs, validation_data=val,
                                    shuffle=False, verbose=0)
            else:
                history = fast_path.fit(model, config, train, val, shuffle=False)
            one[way] = {**{k: v[-1] for k, v in history.history.items()}, "test_accuracy": accuracy(model)}
            one[f"weights_{way}"] = model.get_weights()
        seen["same_order"][name] = {
            "initial_weights_equal": all(np.array_equal(one["initial_fit"][k], one["initial_fast"][k])
                                         for k in one["initial_fit"]),
            "weights_max_diff": max(float(np.abs(a - b).max()) for a, b in zip(one["weights_fit"], one["weights_fast"])),
            "fit": one["fit"], "fast": one["fast"]}

    class Recorder(training.Listener):
        def __init__(self, stop_at=None, lr_change=None):
            self.info, self.rows, self.batches, self.checks, self.applied_at = None, [], 0, 0, None
            self.stop_at, self.lr_change, self.asked = stop_at, lr_change, False

        def started(self, info):
            self.info = info

        def epoch(self, row):
            self.rows.append(row)

        def batch(self, step, epoch, loss):
            self.batches += 1

        def should_stop(self):
            self.checks += 1
            return self.stop_at is not None and self.checks >= self.stop_at

        def controls(self):
            if self.lr_change is None or self.asked or not self.rows:
                return []
            self.asked = True        # asked once the first epoch is recorded: applied before epoch 2's first batch
            return [{"seq": 1, "kind": "lr", "value": self.lr_change}]

        def applied(self, change, step, epoch):
            self.applied_at = step

    config = RunConfig(**MLP, epochs=2, dataset="mnist-5k")
    seen["train"] = {}
    for way in ("fit", "fast"):
        usable = fast_path.usable
        if way == "fit":
            fast_path.usable = lambda config=None: False    # training.train's choice, turned to fit
        try:
            rec = Recorder()
            outcome = training.train(config, data, rec)
        finally:
            fast_path.usable = usable
        seen["train"][way] = {"info": rec.info, "epochs": outcome.results["epochs_run"], "batches_sampled": rec.batches,
                              "test_accuracy": outcome.results["test_accuracy"],
                              "test_loss": outcome.results["test_loss"]}

    rec = Recorder(stop_at=3)
    outcome = training.train(RunConfig(**MLP, epochs=3, dataset="mnist-5k"), data, rec)
    seen["stop"] = {"status": outcome.status, "epochs_recorded": len(rec.rows), "stop_checks": rec.checks,
                    "steps_per_call": rec.info["steps_per_execution"], "steps_per_epoch": rec.info["steps_per_epoch"]}

    config = RunConfig(layers=(64,), batch_size=64, epochs=2, dataset="mnist-5k")
    model, train, (x_val, y_val), _, _ = training.compiled(config, data, on_gpu=False)
    initial = keras.losses.sparse_categorical_crossentropy(y_val, model.predict(x_val, verbose=0))
    rec = Recorder(lr_change=1e-9)
    training.train(config, data, rec)
    seen["lr"] = {"applied_at_step": rec.applied_at, "steps_per_epoch": rec.info["steps_per_epoch"],
                  "rows_lr": [r["lr"] for r in rec.rows], "val_loss": [r["val_loss"] for r in rec.rows],
                  "initial_val_loss": float(np.mean(initial))}
    return seen


if __name__ == "__main__":
    print(json.dumps(_child()), flush=True)
