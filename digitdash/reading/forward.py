"""A trained Keras network answering in NumPy: the page server reads digits and looks inside networks
without importing TensorFlow (about 700 MB and 3-4 s of start-up in a process that serves a class).

A worker saves each Keras run's layers as plain arrays beside its model (`layers_of(model)` ->
store.save_arrays(run, "layers", ...)); `Network.from_arrays` runs them. The layers DigitDash builds
are all here: rescaling, conv (valid/same, any stride), max pooling, batch norm (inference), flatten,
dense with every activation of the Train form, softmax output; augmentation and dropout pass images
through, as Keras does outside training. tests/test_forward.py holds every preset against Keras.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from digitdash.i18n import Problem

PASS_THROUGH = ("InputLayer", "Dropout", "RandomRotation", "RandomTranslation", "RandomZoom")
BATCH = 256          # images per NumPy pass: bounded memory whatever the number asked for


class UnsupportedLayer(Problem):
    """A Keras layer this module cannot run (the caller falls back to Keras)."""


@dataclass
class Layer:
    kind: str                        # rescale, conv, pool, batch_norm, flatten, dense, pass
    name: str
    weights: list[np.ndarray] = field(default_factory=list)
    options: dict = field(default_factory=dict)

    @property
    def kernel(self) -> np.ndarray | None:
        return self.weights[0] if self.kind in ("conv", "dense") else None

    def get_weights(self) -> list[np.ndarray]:
        return list(self.weights)

    @property
    def activation_name(self) -> str:
        return self.options.get("activation", "linear")


# ---- from Keras, to and from plain arrays --------------------------------------------------------
def layers_of(model) -> dict[str, np.ndarray]:
    """A Keras model's layers as plain arrays (what Network.from_arrays reads). Raises
    UnsupportedLayer for a layer it cannot run."""
    specs, arrays = [], {}
    for i, layer in enumerate(model.layers):
        kind, options = _describe(layer)
        specs.append({"kind": kind, "name": layer.name, "options": options})
        for j, w in enumerate(layer.get_weights()):
            arrays[f"w{i}_{j}"] = np.asarray(w, np.float32)
    arrays["spec"] = np.array(json.dumps(specs))
    return arrays


def _describe(layer) -> tuple[str, dict]:
    name = type(layer).__name__
    c = layer.get_config()
    if name in PASS_THROUGH:
        return "pass", {}
    if name == "Rescaling":
        return "rescale", {"scale": float(c["scale"]), "offset": float(c["offset"])}
    if name == "Conv2D" and tuple(c.get("dilation_rate", (1, 1))) == (1, 1) and c.get("groups", 1) == 1:
        return "conv", {"strides": list(c["strides"]), "padding": c["padding"], "activation": _activation(c)}
    if name == "MaxPooling2D":
        return "pool", {"size": list(c["pool_size"]), "strides": list(c["strides"]), "padding": c["padding"]}
    if name == "BatchNormalization" and c["axis"] in (-1, [-1], 3, [3]) and c["center"] and c["scale"]:
        return "batch_norm", {"epsilon": float(c["epsilon"])}
    if name == "Flatten":
        return "flatten", {}
    if name == "Dense":
        return "dense", {"activation": _activation(c)}
    raise UnsupportedLayer("model.damaged", file=layer.name, reason=name)


def _activation(config: dict) -> str:
    act = config.get("activation", "linear")
    name = act if isinstance(act, str) else act.get("config", {}).get("name", str(act))
    if name not in ACTIVATIONS:
        raise UnsupportedLayer("model.damaged", file=str(name), reason="activation")
    return name


class Network:
    """Keras' forward pass in NumPy, layer by layer, for uint8 images (N, H, W, C)."""

    def __init__(self, layers: list[Layer]):
        self.layers = layers

    @classmethod
    def from_arrays(cls, arrays: dict) -> "Network":
        specs = json.loads(str(arrays["spec"]))
        layers = []
        for i, spec in enumerate(specs):
            weights, j = [], 0
            while f"w{i}_{j}" in arrays:
                weights.append(np.asarray(arrays[f"w{i}_{j}"], np.float32))
                j += 1
            layers.append(Layer(spec["kind"], spec["name"], weights, spec["options"]))
        return cls(layers)

    @classmethod
    def from_keras(cls, model) -> "Network":
        return cls.from_arrays(layers_of(model))

    # ---- running it ------------------------------------------------------------------------------
    def outputs(self, images: np.ndarray, wanted: list[Layer] | None = None) -> list[np.ndarray]:
        """The outputs of the `wanted` layers (default: the last) for uint8 or float images, in
        batches of BATCH."""
        wanted = wanted or [self.layers[-1]]
        x = np.asarray(images)
        if len(x) <= BATCH:
            return self._run(x, wanted)
        parts = [self._run(x[i:i + BATCH], wanted) for i in range(0, len(x), BATCH)]
        return [np.concatenate([p[k] for p in parts]) for k in range(len(wanted))]

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities."""
        return self.outputs(images)[0]

    def _run(self, x: np.ndarray, wanted: list[Layer]) -> list[np.ndarray]:
        x = x if x.dtype == np.float64 else x.astype(np.float32)     # float64 in: float64 throughout
        got = {}
        for layer in self.layers:
            x = _apply(layer, x)
            if any(layer is w for w in wanted):
                got[id(layer)] = x
            if len(got) == len(wanted):
                break
        return [got[id(w)] for w in wanted]

    def logits_and_input(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the output layer's input, its pre-softmax scores): what saliency and maps need."""
        out = self.layers[-1]
        before = self.layers[self.layers.index(out) - 1] if len(self.layers) > 1 else None
        features = self.outputs(images, [before])[0] if before is not None else np.asarray(images, np.float32)
        features = features.reshape(len(features), -1)
        kernel, bias = out.weights[0], out.weights[1]
        return features, features @ kernel + bias


# ---- the layers ----------------------------------------------------------------------------------
def _apply(layer: Layer, x: np.ndarray) -> np.ndarray:
    o, w = layer.options, layer.weights
    if layer.kind == "pass":
        return x
    if layer.kind == "rescale":
        return x * o["scale"] + o["offset"]
    if layer.kind == "conv":
        return ACTIVATIONS[o["activation"]](_conv(x, w[0], w[1] if len(w) > 1 else None, o["strides"], o["padding"]))
    if layer.kind == "pool":
        return _pool(x, o["size"], o["strides"], o["padding"])
    if layer.kind == "batch_norm":
        gamma, beta, mean, var = w
        return (x - mean) / np.sqrt(var + o["epsilon"]) * gamma + beta
    if layer.kind == "flatten":
        return x.reshape(len(x), -1)
    if layer.kind == "dense":
        z = x @ w[0] + (w[1] if len(w) > 1 else 0.0)
        return ACTIVATIONS[o["activation"]](z)
    raise UnsupportedLayer("model.damaged", file=layer.name, reason=layer.kind)


def _same_padding(size: int, k: int, s: int) -> tuple[int, int]:
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int) -> np.ndarray:
    """(N, OH, OW, kh, kw, C) views of every window."""
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))   # N, H', W', C, kh, kw
    return win[:, ::sh, ::sw].transpose(0, 1, 2, 4, 5, 3)


def _conv(x, kernel, bias, strides, padding):
    kh, kw, _, filters = kernel.shape
    sh, sw = strides
    if padding == "same":
        (t, b), (l, r) = _same_padding(x.shape[1], kh, sh), _same_padding(x.shape[2], kw, sw)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    win = _windows(x, kh, kw, sh, sw)
    n, oh, ow = win.shape[:3]
    out = win.reshape(n * oh * ow, -1) @ kernel.reshape(-1, filters)
    out = out.reshape(n, oh, ow, filters)
    return out + bias if bias is not None else out


def _pool(x, size, strides, padding):
    ph, pw = size
    sh, sw = strides
    if padding == "same":
        (t, b), (l, r) = _same_padding(x.shape[1], ph, sh), _same_padding(x.shape[2], pw, sw)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=-np.inf)
    return _windows(x, ph, pw, sh, sw).max(axis=(3, 4))


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _expit(z):
    from scipy.special import expit
    return expit(z)


def _gelu(z):
    from scipy.special import erf
    return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805
ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: _expit(z),
    "tanh": np.tanh,
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "selu": lambda z: _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
    "gelu": _gelu,
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "softmax": _softmax,
}
