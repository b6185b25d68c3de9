"""The reference model that ships with DigitDash: a reader ready on a fresh server, before any student
has trained, offered on Draw beside the class's own models and clearly named as the reference.

It is a CNN trained once by `python tools/train_reference.py` (on the 24,345 images of mnist-partial,
written-like augmentation), kept in this package as plain arrays (forward.Network: no TensorFlow, no
training at a server's start) with a card saying what it is and what it scored. It is not a run:
the store never holds it, so Compare, the leaderboard and a class's counts are the class's alone.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from digitdash.plan.config import RunConfig

ID = "reference"                              # never a run's id (those are dated: 1202-135052-7353)
FOLDER = Path(__file__).resolve().parent / "reference_model"
LAYERS = FOLDER / "layers.npz"                # forward.layers_of the trained Keras model
CARD = FOLDER / "card.json"                   # what it is: preset, config, data, figures, how it was made


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """Whether the reference is here and whole: its card read, its network built (once per process).
    A missing or broken one (a checkout without it, a damaged file) is simply not offered."""
    try:
        RunConfig.from_dict(card()["config"])
        _network()
        return True
    except Exception:             # noqa: BLE001 - OSError, bad JSON or arrays, a card of another version
        return False


@functools.lru_cache(maxsize=1)
def card() -> dict:
    return json.loads(CARD.read_text())


@functools.lru_cache(maxsize=1)
def _network():
    from digitdash.reading.forward import Network
    with np.load(LAYERS, allow_pickle=False) as f:
        return Network.from_arrays({k: f[k] for k in f.files})


def probabilities(images: np.ndarray) -> np.ndarray:
    """Class probabilities for uint8 images shaped (N, 28, 28) or (N, 28, 28, 1)."""
    x = np.asarray(images, dtype=np.uint8)
    return np.asarray(_network()(x if x.ndim == 4 else x[..., None]))


def as_run(name: str) -> dict:
    """The reference shaped like a finished run for the pages that list models (`name`: its label in
    the reader's language). Its figures are the card's, measured when it was made."""
    about = card()
    config = RunConfig.from_dict(about["config"])
    return {"id": ID, "name": name, "status": "done", "owner": None, "grp": None, "dataset": config.dataset,
            "config": config, "results": dict(about["results"]), "info": {"reference": True}, "figures": None,
            "library": "keras", "params": about.get("params"), "flops": about.get("flops"), "reference": True}
