"""The workers' settings from the environment: how many runs train at once, and TensorBoard logs."""
from __future__ import annotations

import os

from digitdash.learning import device

CORES_PER_WORKER = 1        # on CPU: one worker per core, each TensorFlow told to use its share


def whole_number(name: str) -> int | None:
    """A whole number of at least 1 from the environment; None when unset or not such a number."""
    text = os.environ.get(name, "").strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) >= 1 else None


def default_workers() -> int:
    """How many runs train at once: DIGITDASH_WORKERS, else DIGITDASH_RUNS_PER_GPU (default 2) per
    GPU, else one per CORES_PER_WORKER cores."""
    if whole_number("DIGITDASH_WORKERS"):
        return whole_number("DIGITDASH_WORKERS")
    gpus = device.gpu_names()
    if gpus:
        return len(gpus) * (whole_number("DIGITDASH_RUNS_PER_GPU") or 2)
    return max(1, (os.cpu_count() or 1) // CORES_PER_WORKER)


def tensorboard_wanted() -> bool:
    """DIGITDASH_TENSORBOARD=1 (or true, yes, on): each Keras run also writes TensorBoard logs."""
    return os.environ.get("DIGITDASH_TENSORBOARD", "").strip().lower() in ("1", "true", "yes", "on")
