"""Stored models answering for prepared digits: loaded once per process, called without
model.predict's per-call set-up."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from .i18n import Problem

_models: dict[tuple[str, float], object] = {}
_lock = threading.Lock()


class ModelError(Problem):
    """A stored model that cannot be used (missing or damaged file)."""


def load(path: Path):
    """The Keras model at path, loaded once per process (reloaded if the file changes)."""
    path = Path(path)
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        raise ModelError("model.missing", path=str(path)) from None
    with _lock:
        if key not in _models:
            try:
                _models[key] = _load(path)
            except Exception as exc:
                raise ModelError("model.damaged", file=path.name, reason=type(exc).__name__) from None
        return _models[key]


def _load(path: Path):
    """(model, call on uint8 images (N, H, W, C) -> probabilities)."""
    if path.suffix == ".keras":
        import keras
        model = keras.models.load_model(path, compile=False)
        return model, _fast_call(model)
    from .arrays import flat
    if path.suffix == ".npz":
        from .numpy_mlp import NumpyMLP
        with np.load(path) as f:
            model = NumpyMLP.from_arrays({k: f[k] for k in f.files})
    else:
        import joblib
        model = joblib.load(path)
    return model, lambda x: model.predict_proba(flat(np.asarray(x)))


def _fast_call(model):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def call(x):
        return model(x, training=False)
    return call


def probabilities(path: Path, images: np.ndarray) -> np.ndarray:
    """Class probabilities for uint8 images shaped (N, 28, 28) or (N, 28, 28, 1)."""
    _, call = load(path)
    x = np.asarray(images, dtype=np.uint8)
    if x.ndim == 3:
        x = x[..., None]
    return np.asarray(call(x))


def run_probabilities(store, run_id: str, images: np.ndarray) -> np.ndarray:
    """Class probabilities from a stored run's model. A damaged model file is set aside and the run
    says so (store.quarantine_model), so it is reported once and never offered again."""
    path = store.model_path(run_id)
    if path is None:
        raise ModelError("model.missing", path=str(store.run_dir(run_id)))
    try:
        return probabilities(path, images)
    except ModelError as exc:
        if exc.message.key == "model.damaged":
            store.quarantine_model(run_id, exc.message)
        raise
