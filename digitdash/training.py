"""Train one RunConfig on in-memory arrays, reporting progress to a Listener.

The listener is how the outside world watches and steers a run (the store in a worker process,
the terminal in `python -m digitdash train`); this module knows nothing of either.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import architecture, metrics
from .config import BASELINES, RunConfig
from .datasets import Dataset
from .i18n import Message

BATCH_RECORD_SECONDS = 0.25   # per-batch loss is sampled at most this often
MISCLASSIFIED_KEPT = 500
DIVERGED_FACTOR = 10          # a loss ten times worse than uniform guessing (ln classes) has blown up


class Listener:
    """Receives a run's progress. Every method may be called from a Keras callback thread."""

    def started(self, info: dict) -> None: ...
    def initial_weights(self, kernels: dict) -> None: ...   # every kernel before training (Inside page)
    def epoch(self, row: dict) -> None: ...
    def batch(self, step: int, epoch: int, loss: float) -> None: ...
    def should_stop(self) -> bool:  # called before every batch: keep it cheap
        return False


@dataclass
class Outcome:
    status: str                      # done, stopped, diverged
    message: str = ""
    results: dict = field(default_factory=dict)
    model: object = None
    misclassified: dict | None = None
    fit_seconds: float = 0.0


def split_validation(x, y, fraction: float):
    """The last `fraction` of the training arrays is validation, as Keras' validation_split does."""
    if fraction <= 0:
        return (x, y), (x[:0], y[:0])
    at = int(math.ceil(len(x) * (1.0 - fraction)))
    return (x[:at], y[:at]), (x[at:], y[at:])


def setup_device(config: RunConfig) -> str:
    """Configure TensorFlow for the machine and name the device training will use."""
    import os

    import tensorflow as tf
    threads = int(os.environ.get("DIGITDASH_TF_THREADS") or 0)   # a worker's share of the cores
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(max(2, threads))
        except RuntimeError:
            pass  # already initialised in this process
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # already initialised in this process
    if gpus:
        import keras
        keras.mixed_precision.set_global_policy("mixed_float16" if config.mixed_precision else "float32")
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    from .device import cpu_name
    return f"CPU: {cpu_name()}"


def diverged(loss: float | None, num_classes: int) -> bool:
    """NaN, infinite, or far beyond what any guess costs (Keras clips probabilities, so a blown-up
    network often shows a huge finite loss instead of NaN)."""
    return loss is not None and (not math.isfinite(loss) or loss > DIVERGED_FACTOR * math.log(num_classes))


def _callbacks(config: RunConfig, listener: Listener, state: dict, steps_per_epoch: int, num_classes: int):
    import keras

    class Live(keras.callbacks.Callback):
        async_safe = True  # batch-end work runs beside training, never blocking a step

        def __init__(self):
            super().__init__()
            self.last_record = 0.0
            self.epoch_start = time.perf_counter()
            self.epoch_index = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_index = epoch
            self.epoch_start = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            if listener.should_stop():
                state["stop_requested"] = True
                self.model.stop_training = True

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            if now - self.last_record < BATCH_RECORD_SECONDS or not logs or "loss" not in logs:
                return
            self.last_record = now
            loss = float(logs["loss"])
            if diverged(loss, num_classes):
                state["diverged"] = (self.epoch_index + 1, batch + 1, loss)
                self.model.stop_training = True
                return
            listener.batch(self.epoch_index * steps_per_epoch + batch + 1, self.epoch_index + 1, loss)

        def on_epoch_end(self, epoch, logs=None):
            if state["stop_requested"]:
                return  # a part-epoch: only whole epochs are recorded
            logs = logs or {}
            row = {"epoch": epoch + 1, "seconds": time.perf_counter() - self.epoch_start,
                   "lr": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))}
            for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                row[key] = float(logs[key]) if key in logs else None
            if diverged(row["loss"], num_classes) or diverged(row["val_loss"], num_classes):
                state["diverged"] = (epoch + 1, None, row["loss"])
                self.model.stop_training = True
                return
            state["epochs"].append(row)
            listener.epoch(row)
            if config.loss_threshold and row["loss"] < config.loss_threshold:
                state["threshold_epoch"] = epoch + 1
                self.model.stop_training = True

    callbacks = [Live()]
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=config.monitor, patience=config.patience,
                                                       restore_best_weights=config.restore_best))
    if config.reduce_lr:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=config.monitor, factor=config.reduce_lr_factor, patience=config.reduce_lr_patience,
            min_lr=1e-6))
    return callbacks


def train(config: RunConfig, data: Dataset, listener: Listener | None = None) -> Outcome:
    """Train, then evaluate on train, validation and test. Never decodes images: arrays only."""
    listener = listener or Listener()
    config.validate(data.num_classes)
    if config.architecture in BASELINES:
        return _train_baseline(config, data, listener)
    device = setup_device(config)
    from . import models

    specs = architecture.plan(config, data.image_shape, data.num_classes)
    model = models.build(config, data.image_shape, data.num_classes)
    (x_tr, y_tr), (x_val, y_val) = split_validation(data.x_train, data.y_train, config.validation_split)
    steps = math.ceil(len(x_tr) / config.batch_size)
    state = {"epochs": [], "stop_requested": False, "diverged": None, "threshold_epoch": None}
    listener.started({"device": device, "params": architecture.total_params(specs),
                      "flops": architecture.total_flops(specs), "train_size": len(x_tr),
                      "val_size": len(x_val), "test_size": len(data.x_test),
                      "steps_per_epoch": steps, "epochs": config.epochs})
    from .inside import initial_kernels
    listener.initial_weights(initial_kernels(model))
    callbacks = _callbacks(config, listener, state, steps, data.num_classes)
    start = time.perf_counter()
    model.fit(x_tr, y_tr, batch_size=config.batch_size, epochs=config.epochs,
              validation_data=(x_val, y_val) if len(x_val) else None, callbacks=callbacks, verbose=0)
    fit_seconds = time.perf_counter() - start

    if state["diverged"]:
        epoch, batch, loss = state["diverged"]
        where = Message("run.at_batch", epoch=epoch, batch=batch) if batch else Message("run.at_epoch", epoch=epoch)
        return _diverged_outcome(loss, where, config, len(state["epochs"]), fit_seconds)
    proba = lambda x: model.predict(x, batch_size=512, verbose=0)  # noqa: E731
    results, misclassified = evaluate(proba, data, (x_tr, y_tr), (x_val, y_val))
    results["epochs_run"] = len(state["epochs"])
    results["fit_seconds"] = fit_seconds
    status, message = "done", ""
    early = next((c for c in callbacks if type(c).__name__ == "EarlyStopping"), None)
    if state["stop_requested"]:
        status, message = "stopped", _stopped_message(len(state["epochs"]))
    elif state["threshold_epoch"]:
        message = _threshold_message(state["threshold_epoch"], config)
        results["stopped_early_at"] = state["threshold_epoch"]
    elif early is not None and early.stopped_epoch > 0:
        results["stopped_early_at"] = early.stopped_epoch + 1
        message = Message("run.early_stopped_restored" if config.restore_best else "run.early_stopped",
                          epoch=early.stopped_epoch + 1, monitor=config.monitor, patience=config.patience)
    return Outcome(status, message, results, model, misclassified, fit_seconds)


def _diverged_outcome(loss: float, where: Message, config: RunConfig, epochs_run: int,
                      fit_seconds: float) -> Outcome:
    return Outcome("diverged", Message("run.diverged", loss=loss, where=where, lr=config.learning_rate),
                   {"epochs_run": epochs_run}, fit_seconds=fit_seconds)


def _stopped_message(epochs_done: int) -> Message:
    return Message("run.stopped_on_request", epoch=epochs_done + 1)


def _threshold_message(epoch: int, config: RunConfig) -> Message:
    return Message("run.loss_threshold", epoch=epoch, threshold=config.loss_threshold)


def _train_baseline(config: RunConfig, data: Dataset, listener: Listener) -> Outcome:
    from . import baselines
    start = time.perf_counter()
    model, rows, note, stopped, proba = baselines.train(config, data, listener)
    fit_seconds = time.perf_counter() - start
    if rows and (diverged(rows[-1]["loss"], data.num_classes) or diverged(rows[-1]["val_loss"], data.num_classes)):
        return _diverged_outcome(rows[-1]["loss"], Message("run.at_epoch", epoch=len(rows)), config, len(rows), fit_seconds)
    train_split, val_split = split_validation(data.x_train, data.y_train, config.validation_split)
    results, misclassified = evaluate(proba, data, train_split, val_split)
    results.update(epochs_run=len(rows), fit_seconds=fit_seconds)
    status, message = ("stopped", _stopped_message(len(rows))) if stopped else ("done", note)
    if not stopped and config.loss_threshold and rows and rows[-1]["loss"] < config.loss_threshold \
            and len(rows) < config.epochs:
        results["stopped_early_at"] = len(rows)
        message = _threshold_message(len(rows), config)
    return Outcome(status, message, results, model, misclassified, fit_seconds)


def evaluate(proba, data: Dataset, train, val) -> tuple[dict, dict]:
    """Test loss/accuracy, confusion matrices, per-class report and the misclassified test digits,
    from a function giving class probabilities for uint8 images."""
    k = data.num_classes
    results = {"confusion": {}}
    probs_test = None
    for split, (x, y) in (("train", train), ("val", val), ("test", (data.x_test, data.y_test))):
        if not len(x):
            continue
        probs = np.asarray(proba(x))
        results["confusion"][split] = metrics.confusion(y, probs.argmax(axis=1), k).tolist()
        if split == "test":
            probs_test = probs
    y = data.y_test
    pred = probs_test.argmax(axis=1)
    results["test_accuracy"] = float((pred == y).mean())
    results["test_loss"] = float(-np.mean(np.log(np.clip(probs_test[np.arange(len(y)), y], 1e-7, 1.0))))
    results["report"] = metrics.report(np.array(results["confusion"]["test"]))
    wrong = np.flatnonzero(pred != y)
    order = wrong[np.argsort(-probs_test[wrong, pred[wrong]])][:MISCLASSIFIED_KEPT]
    misclassified = {"index": order, "true": y[order], "pred": pred[order],
                     "probs": probs_test[order].astype(np.float32), "images": data.x_test[order]}
    results["misclassified_count"] = int(len(wrong))
    return results, misclassified
