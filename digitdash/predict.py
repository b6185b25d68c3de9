"""Stored models answering for prepared digits: loaded once per process (the most recently used
MAX_MODELS kept), called without model.predict's per-call set-up. A Keras run answers through its
layers saved as arrays (forward.Network): no TensorFlow in the page server."""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .forward import Network, UnsupportedLayer
from .i18n import Problem

MAX_MODELS = 8
LAYERS_FILE = "layers.npz"          # beside model.keras: the same network as plain arrays
_models: OrderedDict[tuple[str, float], object] = OrderedDict()
_lock = threading.Lock()


class ModelError(Problem):
    """A stored model that cannot be used (missing or damaged file)."""


def load(path: Path):
    """(model, call on uint8 images -> probabilities) for the model file at path, loaded once per
    process (reloaded if the file changes). A Keras run's model is a forward.Network."""
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
            while len(_models) > MAX_MODELS:
                _models.popitem(last=False)
        _models.move_to_end(key)
        return _models[key]


def _load(path: Path):
    """(model, call on uint8 images (N, H, W, C) -> probabilities)."""
    if path.suffix == ".keras":
        return _keras_run(path)
    from .arrays import flat
    if path.suffix == ".npz":
        from .numpy_mlp import NumpyMLP
        with np.load(path) as f:
            model = NumpyMLP.from_arrays({k: f[k] for k in f.files})
    else:
        import joblib
        model = joblib.load(path)
    return model, lambda x: model.predict_proba(flat(np.asarray(x)))


def _keras_run(path: Path):
    """The network from its saved layers when they were written with (after) this model file; else
    from the Keras file itself (TensorFlow loads it once), run by Keras only if NumPy cannot."""
    arrays = path.with_name(LAYERS_FILE)
    try:
        if arrays.stat().st_mtime >= path.stat().st_mtime:
            with np.load(arrays, allow_pickle=False) as f:
                net = Network.from_arrays({k: f[k] for k in f.files})
            return net, net
    except (OSError, ValueError, KeyError):
        pass                        # no arrays (a run from before they were kept), or unreadable ones
    import keras
    model = keras.models.load_model(path, compile=False)
    try:
        net = Network.from_keras(model)
        return net, net
    except UnsupportedLayer:
        return model, _fast_call(model)


def _fast_call(model):
    """The model as a traced function under TensorFlow; under another Keras backend, as it is."""
    import keras
    if keras.backend.backend() != "tensorflow":
        return lambda x: keras.ops.convert_to_numpy(model(x, training=False))
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
