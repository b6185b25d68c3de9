"""A run's network as plain data: its layers, optimizer and learning-rate schedule, compile settings and
callbacks, each a Keras class named with its arguments.

Computed once from a RunConfig (and the data's image shape and classes) without Keras, which the page
server never imports: models.py makes these parts into the Keras objects a run trains, and export.py
writes the same parts out as code, so an exported notebook builds the run's network by construction.
Seeds are handed out from the run's seed in the order the layers come.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from digitdash.plan.architecture import LayerSpec, plan
from digitdash.plan.config import ADAM_BETAS, ADAM_FAMILY, INITIALIZERS, RunConfig

BN_MOMENTUM = 0.9            # batch norm's running statistics settle within tens of steps (Keras' 0.99 needs
                             # hundreds: a short run then answers one class on the test set)
ONE_CYCLE_WARMUP = 0.25      # the share of a one-cycle run spent warming up to the learning rate
STEPS_PER_EPOCH_UNKNOWN = 100  # a schedule's steps per epoch when none is given (a model built to be looked at)
MIN_LR = 1e-6                # the lowest rate ReduceLROnPlateau takes a run down to
INITIALIZER_CLASSES = {name: "".join(part.capitalize() for part in name.split("_")) for name in INITIALIZERS}
OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adadelta": "Adadelta",
                     "adagrad": "Adagrad", "nadam": "Nadam"}      # one per config.OPTIMIZERS


@dataclass(frozen=True)
class Part:
    """One Keras object: its class `name` in `module` below keras ("layers", "optimizers.schedules"), or in
    models.own_callbacks where module is None; its arguments (literals or other parts); and a note for
    whoever reads it as code."""
    module: str | None
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Recipe:
    """Everything models.build makes and export writes, in the order the code goes."""
    name: str                   # the Sequential's
    seed: int                   # keras.utils.set_random_seed, before the first layer
    layers: tuple[Part, ...]    # the input first
    optimizer: Part             # its learning_rate a number or a schedule (a Part)
    compile: dict               # model.compile's arguments beside the optimizer
    callbacks: tuple[Part, ...]


def of(config: RunConfig, input_shape: tuple[int, int, int], num_classes: int, steps_per_epoch: int | None = None,
       rate_changes: dict[int, float] | None = None) -> Recipe:
    """The recipe of a run. `steps_per_epoch` sizes a one-cycle schedule; `rate_changes` ({step: learning
    rate}) are the rates changed while it trained, for code that trains it again."""
    seeds = iter(range(config.seed, config.seed + 10_000))
    layers = [Part("layers", "Input", kwargs={"shape": tuple(input_shape)})]
    for spec in plan(config, input_shape, num_classes):
        layers += _layers(config, spec, seeds)
    return Recipe(name="".join(ch if ch.isalnum() else "_" for ch in config.summary()), seed=config.seed,
                  layers=tuple(layers), optimizer=_optimizer(config, steps_per_epoch),
                  compile={"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
                  callbacks=callbacks(config, rate_changes))


def _layers(config: RunConfig, spec: LayerSpec, seeds) -> list[Part]:
    """The Keras layers of one planned layer, each seed it needs taken from `seeds`."""
    act = config.activation
    match spec.kind:
        case "augment":
            # A factor of 0 adds no layer: each layer moves every image through a transform, even by nothing
            # (about 2 ms a batch of 256 on a CPU core), and its seed is still taken, so the others keep theirs.
            moved = {"fill_mode": "constant"}
            parts = [(config.rotation, Part("layers", "RandomRotation", (config.rotation / 360.0,),
                                            {**moved, "seed": next(seeds)})),
                     (config.shift, Part("layers", "RandomTranslation", (config.shift, config.shift),
                                         {**moved, "seed": next(seeds)})),
                     (config.zoom, Part("layers", "RandomZoom", (config.zoom,), {**moved, "seed": next(seeds)}))]
            return [part for factor, part in parts if factor]
        case "rescale":
            return [Part("layers", "Rescaling", (1.0 / 255,), note="1 / 255: pixels from 0..255 to 0..1")]
        case "conv":
            return [Part("layers", "Conv2D", (spec.units, config.kernel_size), {
                "strides": spec.stride, "padding": config.padding, "activation": act, **_weights(config, seeds)})]
        case "pool":
            return [Part("layers", "MaxPooling2D", (2,))]
        case "batch_norm":
            return [Part("layers", "BatchNormalization", kwargs={"momentum": BN_MOMENTUM})]
        case "flatten":
            return [Part("layers", "Flatten")]
        case "dense":
            return [Part("layers", "Dense", (spec.units,), {"activation": act, **_weights(config, seeds)})]
        case "dropout":
            return [Part("layers", "Dropout", (config.dropout,), {"seed": next(seeds)})]
        case "output":
            return [Part("layers", "Dense", (spec.units,), {
                "activation": "softmax", "dtype": "float32", "kernel_initializer": _initializer(config, next(seeds))},
                note="the probabilities in float32 whatever the precision")]


def _weights(config: RunConfig, seeds) -> dict:
    """The kernel arguments of a hidden weight layer: its initializer (the next seed) and any regularizer."""
    penalty = {"kernel_regularizer": Part("regularizers", "L1L2", kwargs={"l1": config.l1, "l2": config.l2})}
    return {"kernel_initializer": _initializer(config, next(seeds)), **(penalty if config.l1 or config.l2 else {})}


def _initializer(config: RunConfig, seed: int) -> Part:
    name, s = config.initializer, config.init_stddev
    arguments = {"zeros": {}, "random_normal": {"stddev": s, "seed": seed},
                 "random_uniform": {"minval": -s, "maxval": s, "seed": seed}}.get(name, {"seed": seed})
    return Part("initializers", INITIALIZER_CLASSES[name], kwargs=arguments)


def _optimizer(config: RunConfig, steps_per_epoch: int | None) -> Part:
    momentum = {"sgd": {"momentum": config.momentum, "nesterov": config.nesterov},
                "rmsprop": {"momentum": config.momentum}}.get(config.optimizer, {})
    if config.optimizer in ADAM_FAMILY:
        momentum = {name: getattr(config, name) for name in ADAM_BETAS}
    return Part("optimizers", OPTIMIZER_CLASSES[config.optimizer],
                kwargs={"learning_rate": learning_rate(config, steps_per_epoch), **momentum})


def learning_rate(config: RunConfig, steps_per_epoch: int | None = None) -> float | Part:
    """The learning rate, or for a one-cycle run a schedule over the run's steps: from a tenth of it
    up to it over the first quarter, then a cosine down to a hundredth (Keras' CosineDecay)."""
    if config.lr_schedule != "one-cycle":
        return config.learning_rate
    total = max(2, config.epochs * (steps_per_epoch or STEPS_PER_EPOCH_UNKNOWN))
    warm = max(1, int(ONE_CYCLE_WARMUP * total))
    return Part("optimizers.schedules", "CosineDecay", (config.learning_rate / 10,),
                {"decay_steps": total - warm, "alpha": 0.01, "warmup_target": config.learning_rate,
                 "warmup_steps": warm},
                note=f"one cycle over {total} steps: up from a tenth of the learning rate for the first {warm}, "
                     "then a cosine down to a hundredth of it")


def callbacks(config: RunConfig, rate_changes: dict[int, float] | None = None) -> tuple[Part, ...]:
    """The run's own callbacks (what it does between batches and epochs beside learning), in order."""
    parts = []
    if rate_changes:
        parts.append(Part(None, "RateChanges", kwargs={"changes": dict(rate_changes)}))
    if config.loss_threshold:
        parts.append(Part(None, "StopBelowLoss", kwargs={"threshold": config.loss_threshold}))
    if config.early_stopping:
        parts.append(Part("callbacks", "EarlyStopping", kwargs={
            "monitor": config.monitor, "patience": config.patience, "restore_best_weights": config.restore_best}))
    if config.reduce_lr:
        parts.append(Part("callbacks", "ReduceLROnPlateau", kwargs={
            "monitor": config.monitor, "factor": config.reduce_lr_factor, "patience": config.reduce_lr_patience,
            "min_lr": MIN_LR}))
    return tuple(parts)
