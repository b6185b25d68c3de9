"""Keras runs on JAX without `fit`'s Python loop: the training arrays on the device once per worker,
several batches per call in one `jax.jit`-compiled function, shuffled on the device every epoch.

It follows Keras' guide "Writing a training loop from scratch in JAX": the model's `stateless_call`
(training=True: dropout, batch norm and the augmentation layers run inside the compiled function,
their seed generators and running statistics carried as non-trainable state) and the optimizer's
`stateless_apply`, here under a `jax.lax.fori_loop` over the call's batches (unrolled on the CPU
for convolutional networks, see `unrolled`). The network, initial
weights, loss, optimizer and learning-rate schedule are the model's own (training.compiled builds
it as for `fit`), and so is what gets recorded: each epoch's loss and accuracy as the running mean
over its images, val_loss and val_accuracy on the validation arrays, as `fit` computes them (only
the order of the images within an epoch differs: `fit` shuffles with NumPy). The run's callbacks
are called around each call as `fit` calls them with steps_per_execution (on_train_batch_begin with
the call's first batch, on_train_batch_end with its last), with the model's variables up to date:
live samples, a stop (model.stop_training), a pause and a new learning rate work as under `fit`.

Used where Keras' backend is JAX (training.train; `fit` everywhere else). Nothing here imports JAX
until a run asks for it. `python -m digitdash.learning.fast_path epochs DATASET` prints seconds per
epoch of this path beside a bare `fit`.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import NamedTuple

from digitdash.plan.config import RunConfig

LIVE_CALL_SECONDS = 0.1       # a compiled call comes back to Python about this often (stop, pause, rate, samples)
CALLS_PER_EPOCH = 4           # and at least this often per epoch
STEP_OVERHEAD = {"cpu": 1e-4, "gpu": 3e-5}        # seconds per step of the on-device loop whatever the network
THROUGHPUT = {"cpu": 50e9, "gpu": 20e12}          # FLOP/s a step's work runs at (as training.THROUGHPUT)
UNROLLED_MAX = 8              # batches per call where the loop is unrolled (its compilation grows with them)
VAL_BATCH = 512               # validation images per compiled step (inference: each image on its own)
ARRAYS_KEPT = 8               # arrays a worker keeps on the device (a dataset's train and val, x and y)
FUNCTIONS_KEPT = 4            # compiled functions a worker keeps, one set per network and data shape
FIGURE_PRESETS = ("mlp-512", "cnn-basic")


def unrolled(config: RunConfig, on_gpu: bool) -> bool:
    """Whether a call's loop over its batches is unrolled: on the CPU for networks with convolutions
    (XLA's CPU backend ran cnn-basic's step about 20x slower inside a rolled loop than on its own;
    dense networks and the GPU keep the loop). DIGITDASH_FAST_UNROLL=1 or 0 decides instead."""
    import os

    from digitdash.plan import kinds
    chosen = os.environ.get("DIGITDASH_FAST_UNROLL", "").strip()
    if chosen in ("0", "1"):
        return chosen == "1"
    return not on_gpu and bool(kinds.of(config.architecture).conv_layers)


def usable(config: RunConfig | None = None) -> bool:
    """Whether a Keras run trains on this path: Keras' backend is JAX. Every RunConfig is supported
    there (augmentation runs inside the compiled function); TensorFlow and PyTorch train with fit."""
    import keras
    return keras.backend.backend() == "jax"


def steps_per_call(config: RunConfig, steps: int, flops_per_image: int, on_gpu: bool) -> int:
    """Batches per compiled call: as many as take about LIVE_CALL_SECONDS (well under the 0.3 s a stop
    or a pause may wait), at most 1/CALLS_PER_EPOCH of an epoch, at least one."""
    where = "gpu" if on_gpu else "cpu"
    step = STEP_OVERHEAD[where] + 3 * flops_per_image * config.batch_size / THROUGHPUT[where]   # forward + backward
    most = UNROLLED_MAX if unrolled(config, on_gpu) else steps
    return int(max(1, min(LIVE_CALL_SECONDS // step, steps // CALLS_PER_EPOCH, most)))


class Call(NamedTuple):
    """One compiled call of an epoch: `full` whole batches from batch `first` on, then the epoch's last
    short batch when `short` (fit's last batch holds what is left over)."""
    first: int
    full: int
    short: bool

    @property
    def last(self) -> int:
        return self.first + self.full + self.short - 1


def calls(images: int, batch: int, per_call: int) -> list[Call]:
    """An epoch's calls: per_call batches each, the last one ending with the short batch if any."""
    whole, steps = images // batch, math.ceil(images / batch)
    out = []
    for first in range(0, steps, per_call):
        end = min(first + per_call, steps)
        out.append(Call(first, min(end, whole) - first, end > whole))
    return out


# ---- on the device ---------------------------------------------------------------------------------

_ARRAYS: OrderedDict = OrderedDict()
_FUNCTIONS: OrderedDict = OrderedDict()


def on_device(array):
    """The array on JAX's default device. A read-only array (a dataset's, or a slice of one) is put
    there once per process and kept while it is among the last ARRAYS_KEPT asked for."""
    import jax
    if array.flags.writeable:
        return jax.device_put(array)
    key = (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str)
    held = _ARRAYS.pop(key, None) or (array, jax.device_put(array))   # the array itself keeps its memory (and key) alive
    _ARRAYS[key] = held
    while len(_ARRAYS) > ARRAYS_KEPT:
        _ARRAYS.popitem(last=False)
    return held[1]


class Functions(NamedTuple):
    order: object       # (key, epoch, images) -> the epoch's order of the training images
    chunk: object       # (state, sums, x, y, order, start, steps, batch) -> state, sums after `steps` batches
    evaluate: object    # (trainable, non_trainable, x, y, mask) -> (val_loss, val_accuracy)


def functions(model, key) -> Functions:
    """The compiled functions of a network, kept per worker under `key` (what fixes the network, its
    optimizer and schedule, and the data's shape: a run of the same key reuses another's compilation,
    as the values they work on are all passed in)."""
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = _compile(model, unroll=key[-1])
        while len(_FUNCTIONS) > FUNCTIONS_KEPT:
            _FUNCTIONS.popitem(last=False)
    _FUNCTIONS.move_to_end(key)
    return _FUNCTIONS[key]


def _compile(model, unroll: bool) -> Functions:
    """Keras' stateless API under jax.jit: the loss (the compiled sparse cross-entropy's batch mean,
    plus the layers' own losses such as L1/L2 penalties), its gradients, the optimizer's update, and
    the sums an epoch's metrics are made of; a fori_loop over a call's batches (unrolled if asked)."""
    import functools

    import jax
    import jax.numpy as jnp
    import keras
    optimizer = model.optimizer

    def loss_and_updates(trainable, non_trainable, optimizer_values, x, y):
        y_pred, non_trainable, losses = model.stateless_call(trainable, non_trainable, x, training=True,
                                                             return_losses=True)
        loss = jnp.mean(keras.losses.sparse_categorical_crossentropy(y, y_pred))
        if losses:
            loss = loss + sum(losses)
        with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, optimizer_values))):
            scaled = optimizer.scale_loss(loss)     # mixed precision: the loss scale in force (else loss itself)
        correct = jnp.sum(keras.metrics.sparse_categorical_accuracy(y, y_pred))
        return scaled, (loss, correct, non_trainable)

    gradients = jax.value_and_grad(loss_and_updates, has_aux=True)

    @functools.partial(jax.jit, static_argnames=("images",))
    def order(key, epoch, images):
        return jax.random.permutation(jax.random.fold_in(key, epoch), images).astype(jnp.int32)

    @functools.partial(jax.jit, static_argnames=("steps", "batch"))
    def chunk(state, sums, x, y, order, start, steps, batch):
        def step(i, carry):
            trainable, non_trainable, optimizer_values, loss_sum, correct_sum = carry
            take = jax.lax.dynamic_slice_in_dim(order, start + i * batch, batch)
            (_, (loss, correct, non_trainable)), grads = gradients(
                trainable, non_trainable, optimizer_values, jnp.take(x, take, axis=0), jnp.take(y, take, axis=0))
            trainable, optimizer_values = optimizer.stateless_apply(optimizer_values, grads, trainable)
            return trainable, non_trainable, optimizer_values, loss_sum + loss * batch, correct_sum + correct
        carry = (*state, *sums)
        if unroll:      # straight-line code (fori_loop's unroll still left one slow loop of a single step)
            for i in range(steps):
                carry = step(i, carry)
        else:
            carry = jax.lax.fori_loop(0, steps, step, carry)
        *state, loss_sum, correct_sum = carry
        return tuple(state), (loss_sum, correct_sum)

    @jax.jit
    def evaluate(trainable, non_trainable, x, y, mask):
        """x, y padded to whole VAL_BATCH-sized batches, mask 1 for the real images: fit's evaluate
        (batch mean of the loss plus the layers' losses, weighted by the batch's images)."""
        batch = min(VAL_BATCH, x.shape[0])

        def one(carry, i):
            xb, yb, mb = (jax.lax.dynamic_slice_in_dim(a, i * batch, batch) for a in (x, y, mask))
            y_pred, _, losses = model.stateless_call(trainable, non_trainable, xb, training=False, return_losses=True)
            ce = jnp.sum(keras.losses.sparse_categorical_crossentropy(yb, y_pred) * mb)
            correct = jnp.sum(keras.metrics.sparse_categorical_accuracy(yb, y_pred) * mb)
            penalty = sum(losses) if losses else jnp.float32(0)
            return (carry[0] + ce, carry[1] + correct, carry[2] + penalty), None
        zero = jnp.float32(0)
        (ce, correct, penalty), _ = jax.lax.scan(one, (zero, zero, zero), jnp.arange(x.shape[0] // batch))
        images = jnp.sum(mask)
        return ce / images + penalty / (x.shape[0] // batch), correct / images

    return Functions(order, chunk, evaluate)


def _values(model) -> tuple:
    """The model's and its optimizer's variables as the values the compiled functions take."""
    return ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
            [v.value for v in model.optimizer.variables])


def _attach(model, state) -> None:
    """Put the state a call returned back in the model's variables (callbacks see the model as it is)."""
    for variables, values in zip((model.trainable_variables, model.non_trainable_variables,
                                  model.optimizer.variables), state):
        for variable, value in zip(variables, values):
            variable.assign(value)


def _padded_validation(x, y):
    """Validation arrays on the device, padded to whole batches of VAL_BATCH (or of all of them when
    fewer), and the mask of the real images."""
    import jax.numpy as jnp
    n = len(x)
    pad = -n % min(VAL_BATCH, n)
    xd, yd = on_device(x), on_device(y).astype(jnp.int32)
    mask = jnp.concatenate([jnp.ones(n, jnp.float32), jnp.zeros(pad, jnp.float32)])
    if pad:
        xd = jnp.concatenate([xd, jnp.zeros((pad, *xd.shape[1:]), xd.dtype)])
        yd = jnp.concatenate([yd, jnp.zeros(pad, yd.dtype)])
    return xd, yd, mask


def fit(model, config: RunConfig, train, val, callbacks=(), per_call: int | None = None, shuffle: bool = True):
    """Train the compiled `model` (training.compiled) on `train` (x, y), validating on `val` (may be
    empty) after each epoch, for config.epochs epochs with config.batch_size, per_call batches per
    call (None: steps_per_call's); `callbacks` and `shuffle` as for model.fit. Returns the History."""
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    from digitdash.plan import architecture
    (x, y), (x_val, y_val) = train, val
    images, batch = len(x), config.batch_size
    steps = math.ceil(images / batch)
    on_gpu = jax.default_backend() != "cpu"
    if per_call is None:
        specs = architecture.plan(config, x.shape[1:], model.output_shape[-1])
        per_call = steps_per_call(config, steps, architecture.total_flops(specs), on_gpu)
    build = getattr(model, "_symbolic_build", None)     # what fit does first: metrics, loss and optimizer built
    if build is not None:
        build(data_batch=(x[:1], y[:1]))
    elif not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    run = functions(model, (config.replace(seed=0, dataset=""), keras.config.dtype_policy().name,
                            x.shape[1:], x.dtype.str, images, model.output_shape[-1], unrolled(config, on_gpu)))
    xd, yd = on_device(x), on_device(y).astype(jnp.int32)
    validation = _padded_validation(x_val, y_val) if len(x_val) else None
    shuffle_key = jax.random.key(int(np.random.randint(2**31)))   # NumPy's generator, seeded as the model was built
    plan = calls(images, batch, per_call)
    callbacks = keras.callbacks.CallbackList(list(callbacks or ()), add_history=True, add_progbar=False, model=model,
                                             verbose=0, epochs=config.epochs, steps=steps)
    model.stop_training = False
    logs, epoch_logs, finished = {}, {}, False
    callbacks.on_train_begin()
    try:
        for epoch in range(config.epochs):
            callbacks.on_epoch_begin(epoch)
            order = run.order(shuffle_key, epoch, images) if shuffle else jnp.arange(images, dtype=jnp.int32)
            sums = (jnp.float32(0), jnp.float32(0))
            for call in plan:
                callbacks.on_train_batch_begin(call.first)
                state = _values(model)      # as the callbacks left it: a new learning rate, weights set
                if call.full:
                    state, sums = run.chunk(state, sums, xd, yd, order, call.first * batch, call.full, batch)
                if call.short:
                    state, sums = run.chunk(state, sums, xd, yd, order, (steps - 1) * batch, 1, images - (steps - 1) * batch)
                _attach(model, state)
                seen = min(images, (call.last + 1) * batch)
                logs = {"accuracy": float(sums[1]) / seen, "loss": float(sums[0]) / seen}   # waits for the call
                callbacks.on_train_batch_end(call.last, logs)
                if model.stop_training:
                    break
            epoch_logs = dict(logs)
            if validation is not None:
                val_loss, val_accuracy = run.evaluate(*_values(model)[:2], *validation)
                epoch_logs.update(val_accuracy=float(val_accuracy), val_loss=float(val_loss))
            callbacks.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
        finished = True
    finally:
        model.optimizer.finalize_variable_values(model.trainable_weights)
        if finished:
            callbacks.on_train_end(logs=epoch_logs)
    return model.history


# ---- seconds per epoch, this path beside fit -------------------------------------------------------

def seconds_per_epoch(data, name: str, epochs: int = 3, fast: bool = True) -> dict:
    """Train preset `name` on `data` for `epochs` epochs, on this path (as training.train does) or with
    a bare model.fit (one step per call, as bench's bare fit); each epoch's seconds (validation
    included). s_per_epoch: the median epoch after the first (which compiles)."""
    import keras
    import numpy as np

    from digitdash.digits.arrays import split_validation
    from digitdash.learning import models
    from digitdash.learning.training import setup_device
    from digitdash.plan.config import preset
    config = preset(name).replace(epochs=epochs, dataset=data.name)
    setup_device(config)
    train, val = split_validation(data.x_train, data.y_train, config.validation_split)
    steps = math.ceil(len(train[0]) / config.batch_size)
    model = models.build(config, data.image_shape, data.num_classes, steps_per_epoch=steps)
    seconds: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)
            self.logs = logs

    clock = Clock()
    if fast:
        fit(model, config, train, val, [clock])
    else:
        model.fit(*train, batch_size=config.batch_size, epochs=epochs, validation_data=val, callbacks=[clock], verbose=0)
    later = seconds[1:] or seconds
    return {"s_per_epoch": round(float(np.median(later)), 3), "first_epoch_s": round(seconds[0], 3),
            "epochs_s": [round(s, 3) for s in seconds],
            "val_accuracy": round(float(clock.logs.get("val_accuracy", float("nan"))), 4)}


def epoch_figures(dataset: str, name: str = "cnn-basic", epochs: int = 3, timeout: float = 1200) -> dict:
    """{"jax_fit_s_per_epoch", "jax_fast_s_per_epoch"} of preset `name` on `dataset`, measured in a
    KERAS_BACKEND=jax subprocess (this process's backend is fixed at import); {} when JAX is not
    installed, {"jax_error": ...} when the subprocess fails."""
    import importlib.util
    import json
    import os
    import subprocess
    import sys
    if importlib.util.find_spec("jax") is None:
        return {}
    try:
        out = subprocess.run([sys.executable, "-m", "digitdash.learning.fast_path", "epochs", dataset,
                              "--presets", name, "--epochs", str(epochs), "--json"],
                             env={**os.environ, "KERAS_BACKEND": "jax"}, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"jax_error": f"no answer in {timeout:.0f} s"}
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        return {"jax_error": (out.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    one = json.loads(lines[-1])[name]
    return {"jax_fit_s_per_epoch": one["fit"]["s_per_epoch"], "jax_fast_s_per_epoch": one["fast"]["s_per_epoch"],
            "jax_epochs": {"preset": name, **one}}


def main(argv: list[str] | None = None) -> None:
    import argparse
    import json

    from digitdash.digits import datasets
    parser = argparse.ArgumentParser(prog="python -m digitdash.learning.fast_path")
    sub = parser.add_subparsers(dest="command", required=True)
    epochs = sub.add_parser("epochs", help="seconds per epoch: this path and a bare fit, on Keras' backend")
    epochs.add_argument("dataset")
    epochs.add_argument("--presets", default=",".join(FIGURE_PRESETS))
    epochs.add_argument("--epochs", type=int, default=3)
    epochs.add_argument("--ways", default="fast,fit", help="fast (this path), fit (a bare model.fit) or both")
    epochs.add_argument("--json", action="store_true", help="one JSON line at the end instead of a line per figure")
    args = parser.parse_args(argv)
    import keras
    data = datasets.load(args.dataset)
    figures = {}
    for name in args.presets.split(","):
        figures[name] = {}
        for way in args.ways.split(","):
            if way == "fast" and not usable():
                continue
            one = seconds_per_epoch(data, name, args.epochs, fast=way == "fast")
            figures[name][way] = one
            if not args.json:
                print(f"{name} {keras.backend.backend()} {way}: {one['s_per_epoch']} s per epoch "
                      f"(first {one['first_epoch_s']} s, val_accuracy {one['val_accuracy']})", flush=True)
    if args.json:
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
