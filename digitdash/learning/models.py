"""The compiled Keras model of a run configuration, made from its recipe (recipe.py)."""
from __future__ import annotations

import functools

import numpy as np

from digitdash.learning import recipe as recipes
from digitdash.learning.recipe import Part
from digitdash.plan.config import RunConfig


def make(value):
    """A recipe's value as Keras makes it: a Part as its class called with its arguments (parts made
    first), anything else as it is."""
    if not isinstance(value, Part):
        return value
    import keras
    if value.module is None:
        made = own_callbacks()[value.name]
    else:
        made = getattr(functools.reduce(getattr, value.module.split("."), keras), value.name)
    return made(*map(make, value.args), **{key: make(argument) for key, argument in value.kwargs.items()})


def learning_rate(config: RunConfig, steps_per_epoch: int | None = None):
    """The learning rate, or for a one-cycle run its schedule over the run's steps (recipe.learning_rate)."""
    return make(recipes.learning_rate(config, steps_per_epoch))


def build(config: RunConfig, input_shape: tuple[int, int, int], num_classes: int, compile: bool = True,
          steps_per_epoch: int | None = None, steps_per_execution: int = 1):
    """A Keras model taking uint8 images shaped input_shape; it rescales them to [0, 1] itself.
    `steps_per_execution` batches run per call from Python (fewer calls, the same training)."""
    import keras
    recipe = recipes.of(config, input_shape, num_classes, steps_per_epoch)
    keras.utils.set_random_seed(recipe.seed)
    model = keras.Sequential([make(layer) for layer in recipe.layers], name=recipe.name)
    if compile:
        model.compile(optimizer=make(recipe.optimizer), **recipe.compile, steps_per_execution=steps_per_execution)
    return model


def own_callbacks() -> dict[str, type]:
    """The callbacks a recipe names that Keras has not, by name. Exported code holds these classes as
    they are written here (export.py copies their source), so they use nothing but keras."""
    import keras

    class StopBelowLoss(keras.callbacks.Callback):
        """Stop when the training loss falls below the threshold (stopped_epoch: the epoch it did, from 1)."""

        def __init__(self, threshold):
            super().__init__()
            self.threshold, self.stopped_epoch = threshold, 0

        def on_epoch_end(self, epoch, logs=None):
            if logs and logs["loss"] < self.threshold:
                self.stopped_epoch = epoch + 1
                self.model.stop_training = True

    class RateChanges(keras.callbacks.Callback):
        """The learning rate changed while the run trained: {step: rate}, each rate from the batch after
        `step` batches on."""

        def __init__(self, changes):
            super().__init__()
            self.changes = changes

        def on_train_batch_begin(self, batch, logs=None):
            step = int(self.model.optimizer.iterations)      # the batches trained so far
            if step in self.changes:
                self.model.optimizer.learning_rate = self.changes[step]

    return {"StopBelowLoss": StopBelowLoss, "RateChanges": RateChanges}


def weight_layers(model) -> list:
    """The layers that hold a kernel (dense and conv), first to last, the output layer included."""
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def initial_kernels(model) -> dict[str, np.ndarray]:
    """Every kernel as the network starts ({"layer_<i>": kernel}): what the Inside page compares the
    trained weights with."""
    return {f"layer_{i}": np.asarray(layer.get_weights()[0], dtype=np.float32)
            for i, layer in enumerate(weight_layers(model))}
