"""One validated run configuration, its JSON form, and the notebooks' presets."""
from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, fields

from digitdash.i18n import Message, Problem
from digitdash.plan import kinds

DATASETS = ("mnist-5k", "mnist", "fashion-mnist", "cifar10")   # built in (datasets.py decodes them)
DEFAULT_DATASET = DATASETS[0]    # what a new run, the Draw page's samples and a fresh server use: offline
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "elu", "selu", "gelu", "leaky_relu")
INITIALIZERS = ("zeros", "random_normal", "random_uniform", "glorot_uniform", "glorot_normal",
                "he_uniform", "he_normal", "lecun_normal")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adadelta", "adagrad", "nadam")
DOWNSAMPLING = ("pool", "pool-last", "stride", "stride-last", "none")
PADDINGS = ("valid", "same")
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
LR_SCHEDULES = ("constant", "one-cycle")
ADAM_FAMILY = ("adam", "adamw", "nadam")      # the optimizers that take ADAM_BETAS
ADAM_BETAS = ("beta_1", "beta_2")


@dataclass(frozen=True)
class Bound:
    """The values a numeric knob may take: what validate checks and what the Train form offers."""
    low: float
    high: float
    low_open: bool = False         # low itself is not allowed
    high_open: bool = False
    step: float = 1                # the form's step; an open end is offered one step inside

    def form_range(self) -> tuple[float, float]:
        return (self.low + self.step if self.low_open else self.low,
                self.high - self.step if self.high_open else self.high)


BOUNDS: dict[str, Bound] = {
    "layers": Bound(1, 8192), "conv_filters": Bound(1, 1024),      # each entry of the list
    "kernel_size": Bound(1, 11),
    "init_stddev": Bound(0.0, 10.0, low_open=True, step=0.0001),
    "learning_rate": Bound(0.0, 1000.0, low_open=True, step=0.00001),
    "momentum": Bound(0.0, 1.0, high_open=True, step=0.01),
    "beta_1": Bound(0.0, 1.0, high_open=True, step=0.01), "beta_2": Bound(0.0, 1.0, high_open=True, step=0.0001),
    "batch_size": Bound(1, 65536), "epochs": Bound(1, 1000),
    "validation_split": Bound(0.0, 1.0, high_open=True, step=0.01),
    "dropout": Bound(0.0, 1.0, high_open=True, step=0.01),
    "l1": Bound(0.0, 1.0, step=0.0001), "l2": Bound(0.0, 1.0, step=0.0001),
    "rotation": Bound(0.0, 180.0, step=1.0), "shift": Bound(0.0, 0.5, step=0.01), "zoom": Bound(0.0, 0.9, step=0.01),
    "patience": Bound(0, 1000), "loss_threshold": Bound(0.0, 100.0, step=0.01),
    "reduce_lr_factor": Bound(0.0, 1.0, low_open=True, high_open=True, step=0.01),
    "reduce_lr_patience": Bound(0, 1000), "output_units": Bound(0, 100000), "seed": Bound(0, 2**31 - 1),
}


class ConfigError(Problem):
    """A run configuration that cannot work; the message names field, value and what is allowed."""

    def __init__(self, field_name: str, value, allowed: Message):
        self.field = field_name
        self.value = value
        self.allowed = allowed
        super().__init__("config.error", field=field_name, value=repr(value), allowed=allowed)


@dataclass(frozen=True)
class RunConfig:
    dataset: str = DEFAULT_DATASET
    architecture: str = "mlp"
    layers: tuple[int, ...] = (512,)          # dense hidden layers (neurons each)
    conv_filters: tuple[int, ...] = (32, 64)  # cnn only: one conv layer per entry
    kernel_size: int = 3
    downsampling: str = "pool"                # after which conv layers, and how, size halves
    padding: str = "valid"
    activation: str = "relu"
    initializer: str = "glorot_uniform"
    init_stddev: float = 0.05                 # random_normal stddev / random_uniform half-range
    optimizer: str = "adam"
    learning_rate: float = 0.001
    lr_schedule: str = "constant"             # one-cycle: warm up to learning_rate, then cosine down
    momentum: float = 0.0                     # sgd / rmsprop
    nesterov: bool = False                    # sgd
    beta_1: float = 0.9                       # adam, adamw, nadam: the share of the last steps' direction kept
    beta_2: float = 0.999                     # adam, adamw, nadam: the same for the size of the last gradients
    batch_size: int = 32
    epochs: int = 5
    validation_split: float = 0.25
    dropout: float = 0.0                      # after each hidden dense layer
    l1: float = 0.0
    l2: float = 0.0
    batch_norm: bool = False
    augment: bool = False
    rotation: float = 10.0                    # degrees
    shift: float = 0.1                        # fraction of the image size
    zoom: float = 0.1                         # fraction
    early_stopping: bool = False
    monitor: str = "val_loss"
    patience: int = 5
    restore_best: bool = True
    loss_threshold: float = 0.0               # stop when training loss falls below; 0 = off
    reduce_lr: bool = False
    reduce_lr_factor: float = 0.5
    reduce_lr_patience: int = 2
    output_units: int = 0                     # 0 = one per class of the dataset
    mixed_precision: bool = False             # float16 compute on a GPU (ignored on CPU)
    class_drawings: bool = False              # add the class's labelled drawings to the training data
    written: bool = False                     # add handwriting-like variants (pen, slant, elastic, European 1 and 7)
    seed: int = 42

    # ---- validation -------------------------------------------------------------------
    def validate(self, num_classes: int | None = None) -> "RunConfig":
        """Return self if every field can work, else raise ConfigError for the first that can't."""
        _choice("architecture", self.architecture, kinds.NAMES)
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("initializer", self.initializer, INITIALIZERS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("downsampling", self.downsampling, DOWNSAMPLING)
        _choice("padding", self.padding, PADDINGS)
        _choice("monitor", self.monitor, MONITORS)
        _choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise ConfigError("dataset", self.dataset, Message("config.allowed.dataset"))
        kind = kinds.of(self.architecture)
        _int_list("layers", self.layers, BOUNDS["layers"], allow_empty=not kind.dense_layers)
        if kind.conv_layers:
            _int_list("conv_filters", self.conv_filters, BOUNDS["conv_filters"], allow_empty=False)
            _bounded("kernel_size", self.kernel_size)
        for name in ("init_stddev", "learning_rate", "momentum", "beta_1", "beta_2", "batch_size", "epochs", "validation_split",
                     "dropout", "l1", "l2", "rotation", "shift", "zoom", "patience", "loss_threshold",
                     "reduce_lr_factor", "reduce_lr_patience", "output_units", "seed"):
            _bounded(name, getattr(self, name))
        for name in ("nesterov", "batch_norm", "augment", "early_stopping", "restore_best", "reduce_lr",
                     "mixed_precision", "class_drawings", "written"):
            _bool(name, getattr(self, name))
        if self.reduce_lr and self.lr_schedule != "constant":
            raise ConfigError("reduce_lr", True, Message("config.allowed.reduce_lr_with_schedule"))
        if self.nesterov and self.optimizer != "sgd":
            raise ConfigError("nesterov", True, Message("config.allowed.nesterov"))
        if self.early_stopping and self.monitor.startswith("val_") and self.validation_split == 0:
            raise ConfigError("monitor", self.monitor, Message("config.allowed.monitor_without_validation"))
        if num_classes is not None and self.output_units not in (0, num_classes):
            from digitdash.plan.limits import display  # limits imports this module; a server path is never shown
            raise ConfigError("output_units", self.output_units, Message(
                "config.allowed.output_units", classes=num_classes, dataset=display(self.dataset)))
        return self

    # ---- conversions ------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(unknown[0], data[unknown[0]], _known(known))
        clean = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
        return cls(**clean)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        return cls.from_dict(json.loads(text))

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def with_settings(self, settings: dict[str, str]) -> "RunConfig":
        """Apply KEY=VALUE strings (from the command line or a form), parsed by each field's type.
        Only knobs: the dataset is chosen on its own (--dataset, the sidebar), never as a setting."""
        changes = {}
        for key, text in settings.items():
            if key not in KNOBS:
                raise ConfigError(key, text, Message("config.allowed.knob", names=", ".join(sorted(KNOBS))))
            changes[key] = _parse(key, text, getattr(self, key))
        return self.replace(**changes)

    def summary(self) -> str:
        """A short description that tells runs apart: the layers, then for a Keras network each model
        knob that is not its default, briefly: 'mlp 512-128', 'mlp 128-64 drop0.2',
        'cnn c32-c64 d256 bn drop0.5 aug', 'cnn c32-c64 d128 stride-last adadelta'."""
        dense = dashed(self.layers) or "none"
        kind = kinds.KINDS.get(self.architecture)
        if kind is None or not kind.layered:
            return self.architecture
        if kind.dense_layers:
            head = f"{self.architecture} {dense}"
        else:
            head = f"{self.architecture} {'-'.join(f'c{f}' for f in self.conv_filters)} d{dense}"
        return " ".join([head, *self._differences()]) if kind.keras else head

    def _differences(self) -> list[str]:
        """summary()'s words for the model knobs not at their default (the layers aside)."""
        d = _DEFAULTS
        said = [self.activation] if self.activation != d["activation"] else []
        said += [self.initializer] if self.initializer != d["initializer"] else []
        if self.architecture == "cnn":
            said += [f"k{self.kernel_size}"] if self.kernel_size != d["kernel_size"] else []
            said += [_DOWNSAMPLING_WORD.get(self.downsampling, self.downsampling)] \
                if self.downsampling != d["downsampling"] else []
        said += ["bn"] if self.batch_norm else []
        said += [f"drop{self.dropout:g}"] if self.dropout else []
        said += [f"{name}={getattr(self, name):g}" for name in ("l1", "l2") if getattr(self, name)]
        said += ["aug"] if self.augment else []
        said += ["written"] if self.written else []
        said += [self.optimizer] if self.optimizer != d["optimizer"] else []
        said += [f"b{name[-1]}={getattr(self, name):g}" for name in ADAM_BETAS
                 if self.optimizer in ADAM_FAMILY and getattr(self, name) != d[name]]
        said += [self.lr_schedule] if self.lr_schedule != d["lr_schedule"] else []
        return said


def dashed(values) -> str:
    """A list of sizes as people type it in the form, a link and the command line: (512, 128) -> '512-128'."""
    return "-".join(map(str, values))


def _parse(key: str, text, current):
    if not isinstance(text, str):
        return text
    text = text.strip()
    if isinstance(current, str):
        return text                # a name: validate() says which names are allowed
    try:
        if not text.isascii():     # full-width or Arabic-Indic digits look like numbers but are not ours
            raise ValueError
        if isinstance(current, bool):
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(current, tuple):
            if not _INT_LIST.fullmatch(text):   # "-5" is no layer of 5, "512--128" no list
                raise ValueError
            return tuple(int(p) for p in re.split(r"\s*[-,]\s*", text)) if text else ()
        if isinstance(current, int):
            if not _INT.fullmatch(text):
                raise ValueError
            return int(text)
        if isinstance(current, float):
            if not _FLOAT.fullmatch(text):       # no "nan", "inf" or "1_000"
                raise ValueError
            return float(text)
    except ValueError:
        kind = {bool: "bool", tuple: "int_list_text", int: "int", float: "number"}[type(current)]
        raise ConfigError(key, text, Message(f"config.allowed.{kind}")) from None
    return text


_INT_LIST = re.compile(r"(\d+(\s*[-,]\s*\d+)*)?")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _one_of(choices) -> Message:
    return Message("config.allowed.one_of", choices=", ".join(choices))


def _known(fields_by_name) -> Message:
    return Message("config.allowed.known_setting", names=", ".join(sorted(fields_by_name)))


def _choice(name, value, allowed):
    if value not in allowed:
        raise ConfigError(name, value, _one_of(allowed))


def _bool(name, value):
    if not isinstance(value, bool):
        raise ConfigError(name, value, Message("config.allowed.bool"))


def _bounded(name, value):
    """The knob `name` within its BOUNDS: a whole number where the default is one, else any number."""
    bound = BOUNDS[name]
    if isinstance(_DEFAULTS[name], int):
        _int(name, value, bound.low, bound.high)
    else:
        _number(name, value, bound.low, bound.high, bound.low_open, bound.high_open)


def _int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(name, value, Message("config.allowed.int_range", low=low, high=high))


def _int_list(name, value, bound: Bound, allow_empty):
    low, high = bound.low, bound.high
    ok = isinstance(value, tuple) and (allow_empty or len(value) > 0) and len(value) <= 16 and all(
        isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value)
    if not ok:
        raise ConfigError(name, value, Message("config.allowed.int_list", least=0 if allow_empty else 1,
                                                 low=low, high=high))


def _number(name, value, low, high, low_open=False, high_open=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lo = Message("config.allowed.more_than" if low_open else "config.allowed.at_least", n=low)
        hi = Message("config.allowed.less_than" if high_open else "config.allowed.at_most", n=high)
        raise ConfigError(name, value, Message("config.allowed.number_range", low=lo, high=hi))


_DEFAULTS = {f.name: f.default for f in fields(RunConfig)}
_DOWNSAMPLING_WORD = {"none": "no-pool"}      # summary(): "none" alone would not say what is missing
KNOBS = frozenset(_DEFAULTS) - {"dataset"}     # what KEY=VALUE settings may set
_CNN = dict(architecture="cnn", conv_filters=(32, 64), kernel_size=3, layers=(128,))

PRESETS: dict[str, RunConfig] = {
    # The notebooks' MLPs: batch 32, validation_split 0.25.
    "mlp-512": RunConfig(layers=(512,)),
    "mlp-256-128": RunConfig(layers=(256, 128)),
    "mlp-128-64-dropout": RunConfig(layers=(128, 64), dropout=0.2),
    "mlp-512-128-dropout": RunConfig(layers=(512, 128), dropout=0.3, learning_rate=0.0005),
    # The notebooks' CNNs.
    "cnn-basic": RunConfig(**_CNN, batch_size=128, validation_split=0.1),
    "cnn-dropout": RunConfig(**_CNN, dropout=0.5, batch_size=128, validation_split=0.1),
    "cnn-bn-aug": RunConfig(architecture="cnn", conv_filters=(32, 64), layers=(256,), batch_norm=True,
                            dropout=0.5, augment=True, rotation=10.0, shift=0.1, zoom=0.1,
                            early_stopping=True, patience=5, restore_best=True, reduce_lr=True,
                            epochs=30, batch_size=128, validation_split=0.1),
    "net1": RunConfig(**{**_CNN, "downsampling": "pool-last", "padding": "same"},
                      optimizer="adadelta", learning_rate=1.0, batch_size=128, validation_split=0.1),
    "net2": RunConfig(**{**_CNN, "downsampling": "stride-last", "padding": "same"},
                      optimizer="adadelta", learning_rate=1.0, batch_size=128, validation_split=0.1),
    # Not from the notebooks: cnn-basic trained to read other hands (issue 30) with handwriting-like
    # variants of its images (written). On the 24,345 images of mnist-partial, 3 epochs of cnn-basic
    # plus written read MNIST's test set at 0.983 and other hands at 0.95-0.98; batch norm, dropout
    # and a one-cycle schedule over 4 epochs give 0.9915 and 0.99 (3 epochs: 0.9896).
    "cnn-hands": RunConfig(**_CNN, batch_norm=True, dropout=0.2, written=True, lr_schedule="one-cycle",
                           learning_rate=0.003, epochs=4, batch_size=128, validation_split=0.1),
}


PRESETS.update({
    # Not from the notebooks: the fewest seconds of training to 99% on MNIST's test set (bench:
    # time_to_99_s, beside a lean bare-Keras script's, time_to_99_baseline_s), and at least 99.2% after
    # its last epoch. After that script (tuomaso/train_mnist_fast): small filters, 5x5 first, no batch
    # norm, a high rate on a one-cycle schedule steadied by a lower beta_1; then images moved by up to
    # 1.4 px, the one augmentation worth its cost (about 0.15 s an epoch here), batches of 128, and
    # fewer filters than the script's 24 and 32. Chosen from measurement on the 24,345 images of
    # mnist-partial, this machine (2 cores), seeds 0-9: 99% in epoch 3 (4.9-5.1 s of training) for 6
    # seeds, in epoch 4 (6.3-6.6 s) for 4; 0.9918-0.9928 after epoch 4 (median 0.9923). With 24 and 32
    # filters: 99% at 6.42 s (median), 0.9921-0.9931; batches of 256 at 0.01: 7.05 s (median of 5
    # seeds); without the moves 0.9899-0.9925; batch norm cost more seconds than it saved in epochs.
    "cnn-fast": RunConfig(architecture="cnn", conv_filters=(16, 24), kernel_size=5, layers=(256,),
                          optimizer="adam", learning_rate=0.006, beta_1=0.7, beta_2=0.9, lr_schedule="one-cycle",
                          augment=True, rotation=0.0, shift=0.05, zoom=0.0,
                          batch_size=128, epochs=4, validation_split=0.1),
    # Baselines the notebooks set beside Keras.
    "random-forest": RunConfig(architecture="random-forest", layers=(), epochs=1),
    "sklearn-mlp": RunConfig(architecture="sklearn-mlp", layers=(128, 64), epochs=10, batch_size=200),
    "logreg": RunConfig(architecture="logreg", layers=(), epochs=1),
    "svc": RunConfig(architecture="svc", layers=(), epochs=1),
    "numpy-mlp": RunConfig(architecture="numpy-mlp", layers=(128,), optimizer="sgd", learning_rate=0.1,
                           batch_size=32, epochs=10),
})


def preset(name: str) -> RunConfig:
    if name not in PRESETS:
        raise ConfigError("preset", name, _one_of(PRESETS))
    return PRESETS[name]
