"""Run kinds beside Keras: scikit-learn models and the NumPy network, through the same Listener.

They see the same arrays as Keras (pixels / 255, flattened) and give the same results: per-epoch
rows where the model has epochs, confusion matrices, reports and misclassified digits.
"""
from __future__ import annotations

import time

import numpy as np

from .config import RunConfig
from .datasets import Dataset, stratified_split
from .i18n import Message

BASELINES = ("random-forest", "sklearn-mlp", "logreg", "svc", "numpy-mlp")
SUBSAMPLE = {"svc": 10_000, "logreg": 20_000}   # kernels and solvers that slow down badly past this


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


def flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1).astype(np.float32) / 255.0


def params_of(config: RunConfig, inputs: int, classes: int) -> int | None:
    """Parameter counts where they mean something: the networks' weights, logreg's coefficients."""
    if config.architecture in ("sklearn-mlp", "numpy-mlp"):
        sizes = [inputs, *config.layers, classes]
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if config.architecture == "logreg":
        return inputs * classes + classes
    return None


def _cross_entropy(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0))))


def _row(epoch: int, seconds: float, proba, tr, val) -> dict:
    row = {"epoch": epoch, "seconds": seconds, "lr": None}
    for prefix, (x, y) in (("", tr), ("val_", val)):
        if len(x):
            p = proba(x)
            row[prefix + "loss"] = _cross_entropy(p, y)
            row[prefix + "accuracy"] = float((p.argmax(1) == y).mean())
        else:
            row[prefix + "loss"] = row[prefix + "accuracy"] = None
    return row


def train(config: RunConfig, data: Dataset, listener):
    """Fit the baseline; returns (model wrapper, epoch rows, note, stopped, proba callable)."""
    from .training import split_validation
    (x_tr, y_tr), val = split_validation(data.x_train, data.y_train, config.validation_split)
    note = ""
    limit = SUBSAMPLE.get(config.architecture)
    if limit and len(x_tr) > limit:
        keep = stratified_split(y_tr, 1 - limit / len(x_tr), seed=config.seed)[0][:limit]
        note = Message("run.subsample", kept=len(keep), total=len(x_tr))
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    tr = (flat(x_tr), y_tr)
    val = (flat(val[0]), val[1])
    inputs = tr[0].shape[1]
    listener.started({"device": "CPU (NumPy)" if config.architecture == "numpy-mlp" else "CPU (scikit-learn)",
                      "params": params_of(config, inputs, data.num_classes), "flops": None,
                      "train_size": len(tr[0]), "val_size": len(val[0]), "test_size": len(data.x_test),
                      "steps_per_epoch": -(-len(tr[0]) // config.batch_size), "epochs": config.epochs,
                      "note": note})
    rows, stopped = [], False
    kind = config.architecture
    if kind in ("numpy-mlp", "sklearn-mlp"):
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
    wrapped = SavedModel(model, ".npz" if kind == "numpy-mlp" else ".joblib")
    return wrapped, rows, note, stopped, (lambda x: proba(flat(x)))


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
        from .numpy_mlp import NumpyMLP
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
