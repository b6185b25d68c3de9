"""The compiled Keras model of a run configuration, built from its layer plan."""
from __future__ import annotations

import numpy as np

from .architecture import plan
from .config import RunConfig


def initializer(config: RunConfig, seed: int):
    import keras
    name, s = config.initializer, config.init_stddev
    if name == "random_normal":
        return keras.initializers.RandomNormal(stddev=s, seed=seed)
    if name == "random_uniform":
        return keras.initializers.RandomUniform(minval=-s, maxval=s, seed=seed)
    return keras.initializers.get({"class_name": name, "config": {"seed": seed}} if name != "zeros"
                                  else "zeros")


def optimizer(config: RunConfig):
    import keras
    lr, o = config.learning_rate, keras.optimizers
    return {
        "sgd": lambda: o.SGD(learning_rate=lr, momentum=config.momentum, nesterov=config.nesterov),
        "adam": lambda: o.Adam(learning_rate=lr),
        "adamw": lambda: o.AdamW(learning_rate=lr),
        "rmsprop": lambda: o.RMSprop(learning_rate=lr, momentum=config.momentum),
        "adadelta": lambda: o.Adadelta(learning_rate=lr),
        "adagrad": lambda: o.Adagrad(learning_rate=lr),
        "nadam": lambda: o.Nadam(learning_rate=lr),
    }[config.optimizer]()


def build(config: RunConfig, input_shape: tuple[int, int, int], num_classes: int, compile: bool = True):
    """A Keras model taking uint8 images shaped input_shape; it rescales them to [0, 1] itself."""
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
            model_layers.append(L.BatchNormalization())
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
        model.compile(optimizer=optimizer(config), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model


def weight_layers(model) -> list:
    """The layers that hold a kernel (dense and conv), first to last, the output layer included."""
    return [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]


def initial_kernels(model) -> dict[str, np.ndarray]:
    """Every kernel as the network starts ({"layer_<i>": kernel}): what the Inside page compares the
    trained weights with."""
    return {f"layer_{i}": np.asarray(layer.get_weights()[0], dtype=np.float32)
            for i, layer in enumerate(weight_layers(model))}
