"""Families of runs: one or two knobs varied over listed values, launched and grouped together.

The templates are the notebooks' families, one cell per variant in the notebooks, one click here.
"""
from __future__ import annotations

import itertools
import secrets

from digitdash.i18n import Message
from digitdash.plan.config import ConfigError, RunConfig, preset

TEMPLATES: dict[str, tuple[str, dict[str, list]]] = {
    # name: (base preset, {knob: values})
    "neurons": ("mlp-512", {"layers": [(216,), (512,), (1024,)]}),
    "activation": ("mlp-512", {"activation": ["linear", "relu", "sigmoid"]}),
    "initializer": ("mlp-512", {"initializer": ["zeros", "random_normal", "glorot_uniform"]}),
    "optimizer": ("mlp-512", {"optimizer": ["sgd", "adam", "rmsprop"]}),
    "epochs": ("mlp-512", {"epochs": [5, 15, 30]}),
    # "your data fixes your model": one network, trained without and with the class's drawings
    "our-drawings": ("cnn-basic", {"class_drawings": [False, True]}),
    # other hands: one network, trained without and with handwriting-like variants of its images
    "other-hands": ("cnn-basic", {"written": [False, True]}),
}


# Keras' own default learning rate of each optimizer: what `optimizer='sgd'` in a notebook trains with.
KERAS_LEARNING_RATES = {"sgd": 0.01, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.001, "adadelta": 0.001,
                        "adagrad": 0.001, "nadam": 0.001}


def own_rates(base: RunConfig, vary: dict[str, list]) -> bool:
    """A family that varies the optimizer runs each one at its own Keras default learning rate, as
    the notebooks did, unless the student chose a rate: one other than the base optimizer's default,
    or the learning rate itself varied."""
    return ("optimizer" in vary and "learning_rate" not in vary
            and base.learning_rate == KERAS_LEARNING_RATES.get(base.optimizer))


def expand(base: RunConfig, vary: dict[str, list]) -> list[RunConfig]:
    """Every combination of the varied knobs' values (one or two knobs), each validated."""
    if not 1 <= len(vary) <= 2:
        raise ConfigError("vary", list(vary), Message("config.allowed.vary_count"))
    keys = list(vary)
    configs = []
    for values in itertools.product(*(vary[k] for k in keys)):
        changes = dict(zip(keys, values))
        if own_rates(base, vary):
            changes["learning_rate"] = KERAS_LEARNING_RATES[changes["optimizer"]]
        configs.append(base.replace(**changes).validate())
    return configs


def parse_vary(specs: list[str], base: RunConfig) -> dict[str, list]:
    """'KEY=V1,V2,V3' strings -> {KEY: [parsed values]} (layers take '512-128' per value)."""
    vary = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        if not sep or not values.strip():
            raise ConfigError("vary", spec, Message("config.allowed.vary_spec"))
        vary[key.strip()] = [getattr(base.with_settings({key.strip(): v}), key.strip())
                             for v in values.split(",") if v.strip()]
    return vary


def label(config: RunConfig, vary: dict[str, list]) -> str:
    """The varied knobs' values, e.g. "optimizer = sgd (lr 0.01)": an optimizer says its rate."""
    parts = []
    for k in vary:
        v = getattr(config, k)
        parts.append(f"{k} = {'-'.join(map(str, v)) if isinstance(v, tuple) else v}"
                     + (f" (lr {config.learning_rate:g})" if k == "optimizer" else ""))
    return ", ".join(parts)


def run_name(title: str, config: RunConfig, vary: dict[str, list]) -> str:
    """A family run's name: its varied values, after the family's title when the title says more than
    the knobs do ("neurons: layers = 216", but "activation = linear", never "activation: activation=linear")."""
    said = label(config, vary)
    return said if title.strip() in (*vary, "vary " + " x ".join(vary)) else f"{title}: {said}"


def template(name: str, dataset: str) -> tuple[RunConfig, dict[str, list]]:
    if name not in TEMPLATES:
        raise ConfigError("template", name, Message("config.allowed.one_of", choices=", ".join(TEMPLATES)))
    base, vary = TEMPLATES[name]
    return preset(base).replace(dataset=dataset), vary


def launch(runner, base: RunConfig, vary: dict[str, list], title: str, owner: str | None = None,
           teacher: bool = False) -> tuple[str, list[str]]:
    """Queue the whole family with `runner` (a workers.runners.Runner) under one group id, or none of it
    when one run breaks a limit; returns (group, run ids)."""
    configs = expand(base, vary)
    runner.admit(configs, owner, teacher)
    group = f"{title} · {secrets.token_hex(2)}"
    ids = [runner.submit(c, name=run_name(title, c, vary), owner=owner, group=group, teacher=teacher)
           for c in configs]
    return group, ids
