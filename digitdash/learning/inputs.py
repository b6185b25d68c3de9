"""The arrays a Keras run trains and validates on, handed to `fit` the way its backend reads them fastest.

Under TensorFlow, `fit` on NumPy arrays builds a tf.data pipeline with autotuning on. On a machine of
two cores, autotuning's threads took a core from the training step in most epochs: a small CNN's
epochs of mnist-partial took either 1.4 s or 2.5 s, the same network on the same images (with one
thread, a steady 2.05 s). Here the same pipeline (every epoch shuffled anew from the run's seed,
batches of the run's size) is built with autotuning off: 1.38-1.47 s every epoch. For cnn-fast with
24 and 32 filters in batches of 128 (2026-12-03), `python -m digitdash.learning.inputs DATASET` printed
1.81-2.57 s on arrays, 1.82-1.90 s here (first epochs, which compile, aside). Other backends get the
arrays as they are.
"""
from __future__ import annotations

import numpy as np

PREFETCH = 2        # batches made ready ahead of the step (a fixed number: autotuning is off)


def _tensorflow() -> bool:
    import keras
    return keras.backend.backend() == "tensorflow"


def _pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None):
    """A tf.data pipeline over the arrays held once as tensors: batches gathered by index, the
    indices shuffled every epoch when `seed` is given, autotuning off."""
    import tensorflow as tf
    images, labels = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x))
    if seed is not None:
        order = order.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    batches = order.batch(batch_size).map(lambda i: (tf.gather(images, i), tf.gather(labels, i)))
    options = tf.data.Options()
    options.autotune.enabled = False
    return batches.prefetch(PREFETCH).with_options(options)


def arrays(x: np.ndarray, y: np.ndarray, batch_size: int) -> dict:
    """model.fit's arguments as Keras users pass them: the NumPy arrays (fit builds its own pipeline)."""
    return {"x": x, "y": y, "batch_size": batch_size}


def training(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> dict:
    """model.fit's arguments for the images it learns from, shuffled every epoch."""
    if _tensorflow():       # the pipeline shuffles: fit's own shuffle is for arrays
        return {"x": _pipeline(x, y, batch_size, seed), "shuffle": False}
    return arrays(x, y, batch_size)


def validation(x: np.ndarray, y: np.ndarray, batch_size: int):
    """model.fit's validation_data: None when there are no validation images."""
    if not len(x):
        return None
    return _pipeline(x, y, batch_size, None) if _tensorflow() else (x, y)


def _epochs(dataset: str = "idx:../shared/datasets/mnist-partial", epochs: int = 6) -> dict:
    """Seconds of each epoch of cnn-fast, through fit on the NumPy arrays and through these inputs."""
    import time

    import keras

    from digitdash.digits import datasets
    from digitdash.learning.training import compiled, setup_device
    from digitdash.plan.config import preset
    data = datasets.load(dataset)
    config = preset("cnn-fast").replace(dataset=data.name, epochs=epochs)
    setup_device(config)
    seen = {}

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seen.setdefault(self.name, []).append(round(time.perf_counter() - self.start, 3))

    for name in ("numpy_arrays", "inputs"):
        model, (x, y), _, _, _ = compiled(config, data, False)
        clock = Clock()
        clock.name = name
        feed = training(x, y, config.batch_size, config.seed) if name == "inputs" else arrays(x, y, config.batch_size)
        model.fit(**feed, epochs=epochs, callbacks=[clock], verbose=0)
    return seen


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(_epochs(*sys.argv[1:2])))
