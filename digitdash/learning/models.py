"""The compiled Keras model of a run configuration, built from its layer plan."""
from __future__ import annotations

import numpy as np

from digitdash.plan.architecture import plan
from digitdash.plan.config import RunConfig


def initializer(config: RunConfig, seed: int):
    import keras
    name, s = config.initializer, config.init_stddev
    if name == "random_normal":
        return keras.initializers.RandomNormal(stddev=s, seed=seed)
    if name == "random_uniform":
        return keras.initializers.RandomUniform(minval=-s, maxval=s, seed=seed)
    return keras.initializers.get({"class_name": name, "config": {"seed": seed}} if name != "zeros"
                                  else "zeros")


BN_MOMENTUM = 0.9            # batch norm's running statistics settle within tens of steps (Keras' 0.99 needs
                             # hundreds: a short run then answers one class on the test set)
ONE_CYCLE_WARMUP = 0.25       # the share of a one-cycle run spent warming up to the learning rate


def learning_rate(config: RunConfig, steps_per_epoch: int | None = None):
    """The learning rate, or for a one-cycle run a schedule over the run's steps: from a tenth of it
    up to it over the first quarter, then a cosine down to a hundredth (Keras' CosineDecay)."""
    import keras
    if config.lr_schedule != "one-cycle":
        return config.learning_rate
    total = max(2, config.epochs * (steps_per_epoch or 100))
    warm = max(1, int(ONE_CYCLE_WARMUP * total))
    return keras.optimizers.schedules.CosineDecay(config.learning_rate / 10, decay_steps=total - warm, alpha=0.01,
                                                  warmup_target=config.learning_rate, warmup_steps=warm)


def optimizer(config: RunConfig, steps_per_epoch: int | None = None):
    import keras
    lr, o = learning_rate(config, steps_per_epoch), keras.optimizers
    return {
        "sgd": lambda: o.SGD(learning_rate=lr, momentum=config.momentum, nesterov=config.nesterov),
        "adam": lambda: o.Adam(learning_rate=lr),
        "adamw": lambda: o.AdamW(learning_rate=lr),
        "rmsprop": lambda: o.RMSprop(learning_rate=lr, momentum=config.momentum),
        "adadelta": lambda: o.Adadelta(learning_rate=lr),
        "adagrad": lambda: o.Adagrad(learning_rate=lr),
        "nadam": lambda: o.Nadam(learning_rate=lr),
    }[config.optimizer]()


def build(config: RunConfig, input_shape: tuple[int, int, int], num_classes: int, compile: bool = True,
          steps_per_epoch: int | None = None, steps_per_execution: int = 1):
    """A Keras model taking uint8 images shaped input_shape; it rescales them to [0, 1] itself.
    `steps_per_execution` batches run per call from Python (fewer calls, the same training)."""
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(config.seed)
    reg = keras.regularizers.L1L2(l1=config.l1, l2=config.l2) if (config.l1 or config.l2) else None
    act = config.activation
    seed = iter(range(config.seed, config.seed + 10_000))
    model_layers = [keras.Input(shape=input_shape)]
    for spec in plan(config, input_shape, num_classes):
        if spec.kind == "augment":
            model_layers += [
                L.RandomRotation(config.rotation / 360.0, fill_mode="constant", seed=next(seed)),
                L.RandomTranslation(config.shift, config.shift, fill_mode="constant", seed=next(seed)),
                L.RandomZoom(config.zoom, fill_mode="constant", seed=next(seed)),
            ]
        elif spec.kind == "rescale":
            model_layers.append(L.Rescaling(1.0 / 255))
        elif spec.kind == "conv":
            model_layers.append(L.Conv2D(spec.units, config.kernel_size, strides=spec.stride,
                                         padding=config.padding, activation=act,
                                         kernel_initializer=initializer(config, next(seed)),
                                         kernel_regularizer=reg))
        elif spec.kind == "pool":
            model_layers.append(L.MaxPooling2D(2))
        elif spec.kind == "batch_norm":
            model_layers.append(L.BatchNormalization(momentum=BN_MOMENTUM))
        elif spec.kind == "flatten":
            model_layers.append(L.Flatten())
        elif spec.kind == "dense":
            model_layers.append(L.Dense(spec.units, activation=act,
                                        kernel_initializer=initializer(config, next(seed)),
                                        kernel_regularizer=reg))
        elif spec.kind == "dropout":
            model_layers.append(L.Dropout(config.dropout, seed=next(seed)))
        elif spec.kind == "output":
            model_layers.append(L.Dense(spec.units, activation="softmax", dtype="float32",
                                        kernel_initializer=initializer(config, next(seed))))
    model = keras.Sequential(model_layers, name="".join(ch if ch.isalnum() else "_" for ch in config.summary()))
    if compile:
        model.compile(optimizer=optimizer(config, steps_per_epoch), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], steps_per_execution=steps_per_execution)
    return model


def weight_layers(model) -> list:
    """The layers that hold a kernel (dense and conv), first to last, the output layer included."""
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def initial_kernels(model) -> dict[str, np.ndarray]:
    """Every kernel as the network starts ({"layer_<i>": kernel}): what the Inside page compares the
    trained weights with."""
    return {f"layer_{i}": np.asarray(layer.get_weights()[0], dtype=np.float32)
            for i, layer in enumerate(weight_layers(model))}
