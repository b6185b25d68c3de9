"""The layer plan of a run configuration, computed without TensorFlow.

One plan drives both the Keras model (models.py) and what the pages show before any training:
each layer's output shape, parameter count and FLOPs per image.

FLOPs count the weight layers only, two per multiply-accumulate: a dense layer of n inputs and
m units costs 2*n*m; a conv layer costs 2*k*k*c_in*filters per output position. Biases,
activations, pooling, batch norm and dropout are left out (they are a few percent at most).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from digitdash.i18n import Message
from digitdash.plan import kinds
from digitdash.plan.config import ConfigError, RunConfig


@dataclass(frozen=True)
class LayerSpec:
    kind: str                       # augment, rescale, conv, pool, flatten, dense, batch_norm, dropout, output
    output_shape: tuple[int, ...]
    params: int = 0
    flops: int = 0
    units: int = 0                  # neurons (dense/output) or filters (conv)
    stride: int = 1

    @property
    def label(self) -> str:
        if self.kind in ("dense", "output"):
            return f"{self.kind} {self.units}"
        if self.kind == "conv":
            return f"conv {self.units}" + (f" stride {self.stride}" if self.stride > 1 else "")
        return self.kind


def plan(config: RunConfig, input_shape: tuple[int, int, int], num_classes: int) -> list[LayerSpec]:
    """The layers the model will have, in order (the input itself is not listed)."""
    config.validate(num_classes)
    kind = kinds.of(config.architecture)
    if not kind.layered:
        return []          # a forest, a linear model, a kernel machine: no layers
    h, w, c = input_shape
    specs: list[LayerSpec] = []
    if config.augment:
        specs.append(LayerSpec("augment", (h, w, c)))
    specs.append(LayerSpec("rescale", (h, w, c)))
    if kind.conv_layers:
        k, n = config.kernel_size, len(config.conv_filters)
        for i, filters in enumerate(config.conv_filters):
            last = i == n - 1
            stride = 2 if config.downsampling == "stride" or (config.downsampling == "stride-last" and last) else 1
            if config.padding == "same":
                h, w = math.ceil(h / stride), math.ceil(w / stride)
            else:
                h, w = (h - k) // stride + 1, (w - k) // stride + 1
            _check_size(h, w, i)
            specs.append(LayerSpec("conv", (h, w, filters), params=k * k * c * filters + filters,
                                   flops=2 * k * k * c * filters * h * w, units=filters, stride=stride))
            c = filters
            if config.batch_norm:
                specs.append(LayerSpec("batch_norm", (h, w, c), params=4 * c))
            if config.downsampling == "pool" or (config.downsampling == "pool-last" and last):
                h, w = h // 2, w // 2
                _check_size(h, w, i)
                specs.append(LayerSpec("pool", (h, w, c)))
    size = h * w * c
    specs.append(LayerSpec("flatten", (size,)))
    for units in config.layers:
        specs.append(LayerSpec("dense", (units,), params=size * units + units, flops=2 * size * units,
                               units=units))
        size = units
        if config.batch_norm:
            specs.append(LayerSpec("batch_norm", (units,), params=4 * units))
        if config.dropout > 0:
            specs.append(LayerSpec("dropout", (units,)))
    out = config.output_units or num_classes
    specs.append(LayerSpec("output", (out,), params=size * out + out, flops=2 * size * out, units=out))
    _check_memory(config, specs)
    return specs


MAX_PARAMS = 50_000_000                  # 200 MB of weights, ~800 MB with Adam's state and gradients
MAX_BATCH_VALUES = 400_000_000           # layer outputs of one batch: 1.6 GB of float32


def _check_memory(config: RunConfig, specs: list[LayerSpec]) -> None:
    """Refuse networks that would exhaust memory inside Keras, with what would fit instead."""
    params = total_params(specs)
    if params > MAX_PARAMS:
        raise ConfigError("layers", config.layers, Message("config.allowed.params", most=MAX_PARAMS, has=params))
    per_image = sum(math.prod(s.output_shape) for s in specs)
    if config.batch_size * per_image > MAX_BATCH_VALUES:
        raise ConfigError("batch_size", config.batch_size,
                          Message("config.allowed.batch_memory", most=max(1, MAX_BATCH_VALUES // per_image)))


def _check_size(h: int, w: int, index: int) -> None:
    if h < 1 or w < 1:
        raise ConfigError("conv_filters", index + 1, Message("config.allowed.shrunk", layer=index + 1))


def total_params(specs: list[LayerSpec]) -> int:
    return sum(s.params for s in specs)


def parameters(config: RunConfig, specs: list[LayerSpec], input_shape: tuple[int, ...], num_classes: int) -> int | None:
    """The run's parameter count as its kind counts it (None where a count means nothing)."""
    sizes = [math.prod(input_shape), *config.layers, config.output_units or num_classes]
    return kinds.params(kinds.of(config.architecture), total_params(specs), sizes)


def total_flops(specs: list[LayerSpec]) -> int:
    return sum(s.flops for s in specs)


def summary_rows(specs: list[LayerSpec]) -> list[dict]:
    """Rows for a table: layer, output shape, params, MFLOPs."""
    return [{"layer": s.label, "output shape": "x".join(map(str, s.output_shape)),
             "params": s.params, "MFLOPs": round(s.flops / 1e6, 3)} for s in specs]
