"""Run kinds beside Keras: scikit-learn models and the NumPy network, through the same Listener.

They see the same arrays as Keras (pixels / 255, flattened) and give back the same Outcome: per-epoch
rows where the model has epochs, confusion matrices, reports and misclassified digits.
"""
from __future__ import annotations

import time

import numpy as np

from digitdash.digits.arrays import cross_entropy, flat, split_validation
from digitdash.digits.datasets import Dataset, stratified_split
from digitdash.i18n import Message
from digitdash.learning.results import (Listener, Outcome, diverged, diverged_outcome, evaluate, stopped_message,
                                        threshold_message)
from digitdash.plan import architecture, kinds
from digitdash.plan.config import RunConfig


class SavedModel:
    """A non-Keras model with the one method the store needs."""

    def __init__(self, model, suffix: str):
        self.model, self.suffix = model, suffix

    def save(self, path) -> None:
        if self.suffix == ".npz":
            with open(path, "wb") as f:
                np.savez(f, **self.model.to_arrays())
        else:
            import joblib
            joblib.dump(self.model, path)


def _row(epoch: int, seconds: float, proba, tr, val) -> dict:
    row = {"epoch": epoch, "seconds": seconds, "lr": None}
    for prefix, (x, y) in (("", tr), ("val_", val)):
        if len(x):
            p = proba(x)
            row[prefix + "loss"] = cross_entropy(p, y)
            row[prefix + "accuracy"] = float((p.argmax(1) == y).mean())
        else:
            row[prefix + "loss"] = row[prefix + "accuracy"] = None
    return row


def train(config: RunConfig, data: Dataset, listener: Listener) -> Outcome:
    """Fit the baseline, then evaluate it as training.train evaluates a Keras network."""
    start = time.perf_counter()
    model, rows, note, stopped, proba, split = _fit(config, data, listener)
    fit_seconds = time.perf_counter() - start
    k = data.num_classes
    if rows and (diverged(rows[-1]["loss"], k) or diverged(rows[-1]["val_loss"], k)):
        return diverged_outcome(rows[-1]["loss"], Message("run.at_epoch", epoch=len(rows)), config, len(rows),
                                fit_seconds)
    results, misclassified = evaluate(proba, data, *split)
    results.update(epochs_run=len(rows), fit_seconds=fit_seconds)
    status, message = ("stopped", stopped_message(len(rows))) if stopped else ("done", note)
    if not stopped and config.loss_threshold and rows and rows[-1]["loss"] < config.loss_threshold \
            and len(rows) < config.epochs:
        results["stopped_early_at"] = len(rows)
        message = threshold_message(len(rows), config)
    return Outcome(status, message, results, model, misclassified, fit_seconds)


def _fit(config: RunConfig, data: Dataset, listener: Listener):
    """(model wrapper, epoch rows, note, stopped, proba on uint8 images, (train, validation) split)."""
    split = split_validation(data.x_train, data.y_train, config.validation_split)
    (x_tr, y_tr), val = split
    kind = kinds.of(config.architecture)
    note = ""
    if kind.subsample and len(x_tr) > kind.subsample:
        keep = stratified_split(y_tr, 1 - kind.subsample / len(x_tr), seed=config.seed)[0][:kind.subsample]
        note = Message("run.subsample", kept=len(keep), total=len(x_tr))
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    tr = (flat(x_tr), y_tr)
    val = (flat(val[0]), val[1])
    inputs = tr[0].shape[1]
    specs = architecture.plan(config, data.image_shape, data.num_classes)
    listener.started({"device": f"CPU ({kind.library})",
                      "params": architecture.parameters(config, specs, data.image_shape, data.num_classes),
                      "flops": None, "train_size": len(tr[0]), "val_size": len(val[0]),
                      "test_size": len(data.x_test), "steps_per_epoch": -(-len(tr[0]) // config.batch_size),
                      "epochs": config.epochs, "note": note})
    rows, stopped = [], False
    if kind.epochs:
        model, proba, step = _network(config, inputs, data.num_classes, tr)
        for epoch in range(1, config.epochs + 1):
            start = time.perf_counter()
            stopped = step(listener.should_stop)
            if stopped:
                break
            row = _row(epoch, time.perf_counter() - start, proba, tr, val)
            rows.append(row)
            listener.epoch(row)
            if config.loss_threshold and row["loss"] < config.loss_threshold:
                break
    else:
        model = _classic(config)
        start = time.perf_counter()
        model.fit(*tr)
        proba = model.predict_proba
        row = _row(1, time.perf_counter() - start, proba, tr, val)
        rows.append(row)
        listener.epoch(row)
    return SavedModel(model, kind.suffix), rows, note, stopped, (lambda x: proba(flat(x))), split


def _classic(config: RunConfig):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC
    if config.architecture == "random-forest":
        return RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=config.seed)
    if config.architecture == "logreg":
        return LogisticRegression(max_iter=200)
    return SVC(kernel="rbf", probability=True, random_state=config.seed)


def _network(config: RunConfig, inputs: int, classes: int, tr):
    """(model, proba on flat pixels, one-epoch step(should_stop) -> stopped)."""
    if config.architecture == "numpy-mlp":
        from digitdash.learning.numpy_mlp import NumpyMLP
        net = NumpyMLP([inputs, *config.layers, classes], seed=config.seed)
        rng = np.random.default_rng(config.seed)

        def step(should_stop):
            stopped = []

            def on_batch(_):
                if should_stop():
                    stopped.append(True)
                return bool(stopped)
            net.sgd_epoch(*tr, lr=config.learning_rate, batch_size=config.batch_size, rng=rng, on_batch=on_batch)
            return bool(stopped)
        return net, net.predict_proba, step
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    mlp = MLPClassifier(hidden_layer_sizes=config.layers, solver="adam", learning_rate_init=config.learning_rate,
                        batch_size=config.batch_size, max_iter=1, warm_start=True, random_state=config.seed)

    def step(should_stop):
        if should_stop():
            return True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp.fit(*tr)      # warm_start + max_iter=1: one more epoch each call
        return False
    return mlp, mlp.predict_proba, step
