"""The run kinds: the two Keras networks and the baselines set beside them, and what each one is.

Every rule that depends on the kind of a run (which knobs it takes, how it trains, how its
parameters are counted, where its model is saved) reads this table instead of listing names.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    library: str                   # Keras, scikit-learn or NumPy: who trains it
    suffix: str                    # the saved model's file suffix
    dense_layers: bool = False     # needs hidden dense layers (`layers`, at least one)
    conv_layers: bool = False      # has conv layers (`conv_filters`, `kernel_size`, ...)
    epochs: bool = True            # learns epoch by epoch (else one fit)
    params: str = "plan"           # parameters counted from: the layer plan, dense sizes, logistic, none
    subsample: int | None = None   # trained on at most this many images (its solver slows badly past it)
    seconds: float | None = None   # a baseline's rough training time, for queue estimates

    @property
    def keras(self) -> bool:
        return self.library == "Keras"

    @property
    def layered(self) -> bool:
        """Has a layer plan (shapes and FLOPs per layer)."""
        return self.dense_layers or self.conv_layers


_ALL = (
    Kind("mlp", "Keras", ".keras", dense_layers=True),
    Kind("cnn", "Keras", ".keras", conv_layers=True),
    Kind("random-forest", "scikit-learn", ".joblib", epochs=False, params="none", seconds=20.0),
    Kind("sklearn-mlp", "scikit-learn", ".joblib", dense_layers=True, params="dense", seconds=60.0),
    Kind("logreg", "scikit-learn", ".joblib", epochs=False, params="logistic", subsample=20_000, seconds=60.0),
    Kind("svc", "scikit-learn", ".joblib", epochs=False, params="none", subsample=10_000, seconds=120.0),
    Kind("numpy-mlp", "NumPy", ".npz", dense_layers=True, params="dense", seconds=40.0),
)
KINDS: dict[str, Kind] = {k.name: k for k in _ALL}
NAMES = tuple(KINDS)
BASELINES = tuple(k.name for k in _ALL if not k.keras)
MODEL_SUFFIXES = tuple(dict.fromkeys(k.suffix for k in _ALL))


def of(name: str) -> Kind:
    """The kind called `name` (config.validate has checked it is one)."""
    return KINDS[name]


def params(kind: Kind, planned: int, sizes: list[int]) -> int | None:
    """Parameter counts where they mean something: the networks' weights (from the layer plan, or
    from the dense sizes [inputs, *hidden, classes]), logistic regression's coefficients."""
    if kind.params == "plan":
        return planned
    if kind.params == "dense":
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if kind.params == "logistic":
        return sizes[0] * sizes[-1] + sizes[-1]
    return None
