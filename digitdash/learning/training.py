"""Train one RunConfig on in-memory arrays, reporting progress to a Listener.

The listener is how the outside world watches and steers a run (the store in a worker process,
the terminal in `python -m digitdash train`); this module knows nothing of either. Keras kinds
train here; the baselines train in baselines.py and give back the same Outcome.
"""
from __future__ import annotations

import math
import time

from digitdash.digits.arrays import split_validation
from digitdash.digits.datasets import Dataset
from digitdash.i18n import Message
from digitdash.learning import fast_path, inputs, recipe
from digitdash.learning.controls import PAUSE_MAX_SECONDS, TIMER
from digitdash.learning.results import Listener, Outcome, diverged, diverged_outcome, evaluate, stopped_message, threshold_message
from digitdash.learning.tensorflow_start import quiet_tensorflow
from digitdash.plan import architecture, kinds
from digitdash.plan.config import RunConfig

__all__ = ["BATCH_RECORD_SECONDS", "Listener", "Outcome", "setup_device", "train"]
BATCH_RECORD_SECONDS = 0.25   # per-batch loss is sampled at most this often
PAUSE_POLL_SECONDS = 0.2      # a paused run looks for Resume (and Stop) this often


def setup_device(config: RunConfig) -> str:
    """Configure the Keras backend for the machine and name the device training will use. TensorFlow
    is the default backend; JAX and PyTorch (KERAS_BACKEND=jax / torch) train the same networks."""
    import os

    quiet_tensorflow()
    import keras
    threads = int(os.environ.get("DIGITDASH_TF_THREADS") or 0)   # a worker's share of the cores
    gpu = {"tensorflow": _tensorflow_gpu, "jax": _jax_gpu, "torch": _torch_gpu}[keras.backend.backend()](threads)
    if gpu:
        keras.mixed_precision.set_global_policy("mixed_float16" if config.mixed_precision else "float32")
        return f"GPU: {gpu}"
    from digitdash.learning.device import cpu_name
    return f"CPU: {cpu_name()}"


def _tensorflow_gpu(threads: int) -> str | None:
    import tensorflow as tf
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(max(2, threads))
        except RuntimeError:
            pass  # already initialised in this process
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)   # several runs share one GPU
        except RuntimeError:
            pass  # already initialised in this process
    return tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name) if gpus else None


def _jax_gpu(threads: int) -> str | None:
    import jax
    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    return gpus[0].device_kind if gpus else None


def _torch_gpu(threads: int) -> str | None:
    import torch
    if threads:
        torch.set_num_threads(threads)
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


LIVE_CALL_SECONDS = 0.1     # training comes back to Python about this often: stop checks, live samples
STEP_OVERHEAD = {"cpu": 1e-3, "gpu": 1e-3}           # seconds per step whatever the network
THROUGHPUT = {"cpu": 50e9, "gpu": 20e12}             # FLOP/s a step's work runs at (measured order)


def steps_per_execution(config: RunConfig, steps: int, flops_per_image: int, on_gpu: bool) -> int:
    """Batches per call from Python: as many as take about LIVE_CALL_SECONDS (Keras' per-step cost
    dominates small networks, most on a GPU), at most a quarter of an epoch, at least one."""
    where = "gpu" if on_gpu else "cpu"
    step = STEP_OVERHEAD[where] + 3 * flops_per_image * config.batch_size / THROUGHPUT[where]   # forward + backward
    return int(max(1, min(LIVE_CALL_SECONDS // step, steps // 4)))


def compiled(config: RunConfig, data: Dataset, on_gpu: bool):
    """(the compiled network, (x, y) to train on, (x, y) to validate on, steps per epoch, steps per
    call) as every Keras run trains it: the schedule over the run's steps, several steps per call."""
    from digitdash.learning import models
    specs = architecture.plan(config, data.image_shape, data.num_classes)
    train, val = split_validation(data.x_train, data.y_train, config.validation_split)
    steps = math.ceil(len(train[0]) / config.batch_size)
    per_call = steps_per_execution(config, steps, architecture.total_flops(specs), on_gpu)
    model = models.build(config, data.image_shape, data.num_classes, steps_per_epoch=steps,
                         steps_per_execution=per_call)
    return model, train, val, steps, per_call


def _callbacks(config: RunConfig, listener: Listener, state: dict, steps_per_epoch: int, num_classes: int) -> list:
    """Live (the listener's view of the run, and its controls), TensorBoard where the listener keeps
    logs (scalars every epoch, each layer's weights as histograms), then the run's own from its recipe."""
    import keras

    from digitdash.learning import models
    callbacks = [_live(listener, state, steps_per_epoch, num_classes)]
    if listener.log_dir():
        callbacks.append(keras.callbacks.TensorBoard(listener.log_dir(), histogram_freq=1, write_graph=False))
    return callbacks + [models.make(part) for part in recipe.callbacks(config)]


def _live(listener: Listener, state: dict, steps_per_epoch: int, num_classes: int):
    """The callback that reports the run to the listener (sampled batch losses, whole epochs, a
    divergence) and takes its controls before each batch."""
    import keras

    class Live(keras.callbacks.Callback):
        async_safe = True  # batch-end work runs beside training, never blocking a step

        def __init__(self):
            super().__init__()
            self.last_record = 0.0
            self.epoch_start = time.perf_counter()
            self.epoch_index = 0
            self.paused_since = None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_index = epoch
            self.epoch_start = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            """A stop asked, then the changes asked; while paused, it waits here (holding the training)
            for a resume, a stop, or its pauses to run out."""
            while True:
                if listener.should_stop():
                    state["stop_requested"] = True
                    self.model.stop_training = True
                for change in listener.controls():
                    self.apply(change, batch)
                if self.paused_since is None or state["stop_requested"]:
                    return
                if state["paused_seconds"] + time.monotonic() - self.paused_since > PAUSE_MAX_SECONDS:
                    self.apply({"seq": None, "kind": "resume", "by": TIMER}, batch)
                else:
                    time.sleep(PAUSE_POLL_SECONDS)

        def apply(self, change, batch):
            """A change asked while it trains: a pause, a resume, a new learning rate from this batch."""
            if change["kind"] == "lr":
                self.model.optimizer.learning_rate = float(change["value"])
            elif change["kind"] == "pause" and self.paused_since is None:
                self.paused_since = time.monotonic()
            elif change["kind"] == "resume" and self.paused_since is not None:
                paused = time.monotonic() - self.paused_since
                self.epoch_start += paused                  # an epoch's seconds are its training, not its pause
                state["paused_seconds"] += paused
                self.paused_since = None
            listener.applied(change, self.epoch_index * steps_per_epoch + batch, self.epoch_index + 1)

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

    return Live()


def train(config: RunConfig, data: Dataset, listener: Listener | None = None) -> Outcome:
    """Train, then evaluate on train, validation and test. Never decodes images: arrays only."""
    listener = listener or Listener()
    config.validate(data.num_classes)
    if not kinds.of(config.architecture).keras:
        from digitdash.learning import baselines
        return baselines.train(config, data, listener)
    device = setup_device(config)
    from digitdash.learning import models

    specs = architecture.plan(config, data.image_shape, data.num_classes)
    model, (x_tr, y_tr), (x_val, y_val), steps, per_call = compiled(config, data, device.startswith("GPU"))
    fast = {}       # JAX: the compiled fast path (fast_path.py), several batches per call on the device
    if fast_path.usable(config):
        per_call = fast_path.steps_per_call(config, steps, architecture.total_flops(specs), device.startswith("GPU"))
        fast = {"fast_path": "jax"}
    state = {"epochs": [], "stop_requested": False, "diverged": None, "paused_seconds": 0.0}
    listener.started({"device": device, "params": architecture.total_params(specs),
                      "flops": architecture.total_flops(specs), "train_size": len(x_tr),
                      "val_size": len(x_val), "test_size": len(data.x_test),
                      "steps_per_epoch": steps, "steps_per_execution": per_call, "epochs": config.epochs, **fast})
    listener.initial_weights(models.initial_kernels(model))
    callbacks = _callbacks(config, listener, state, steps, data.num_classes)
    start = time.perf_counter()
    if fast:
        fast_path.fit(model, config, (x_tr, y_tr), (x_val, y_val), callbacks, per_call=per_call)
    else:
        model.fit(**inputs.training(x_tr, y_tr, config.batch_size, config.seed), epochs=config.epochs,
                  validation_data=inputs.validation(x_val, y_val, config.batch_size), callbacks=callbacks, verbose=0)
    fit_seconds = time.perf_counter() - start - state["paused_seconds"]

    if state["diverged"]:
        epoch, batch, loss = state["diverged"]
        where = Message("run.at_batch", epoch=epoch, batch=batch) if batch else Message("run.at_epoch", epoch=epoch)
        return diverged_outcome(loss, where, config, len(state["epochs"]), fit_seconds)
    proba = lambda x: model.predict(x, batch_size=512, verbose=0)  # noqa: E731
    results, misclassified = evaluate(proba, data, (x_tr, y_tr), (x_val, y_val))
    results["epochs_run"] = len(state["epochs"])
    results["fit_seconds"] = fit_seconds
    status, message = "done", ""
    below, early = (next((c for c in callbacks if type(c).__name__ == name), None)
                    for name in ("StopBelowLoss", "EarlyStopping"))
    if state["stop_requested"]:
        status, message = "stopped", stopped_message(len(state["epochs"]))
    elif below is not None and below.stopped_epoch:
        message = threshold_message(below.stopped_epoch, config)
        results["stopped_early_at"] = below.stopped_epoch
    elif early is not None and early.stopped_epoch > 0:
        results["stopped_early_at"] = early.stopped_epoch + 1
        message = Message("run.early_stopped_restored" if config.restore_best else "run.early_stopped",
                          epoch=early.stopped_epoch + 1, monitor=config.monitor, patience=config.patience)
    return Outcome(status, message, results, model, misclassified, fit_seconds)
