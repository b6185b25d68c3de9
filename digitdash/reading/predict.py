"""Stored models answering for prepared digits: loaded once per process (the most recently used
MAX_MODELS kept), called without model.predict's per-call set-up. A Keras run answers through its
layers saved as arrays (forward.Network): no TensorFlow in the page server.

A model that fails to load is called damaged (and set aside by run_probabilities) only when the
file itself is proven unreadable by its own format (`damage`): a .keras or .npz file that is not a
whole zip archive (every member's checksum is checked), a .keras whose config.json is not a model's
JSON or whose weights are not HDF5, an .npz member that is not a NumPy array, a .joblib pickle cut
short. A failure of the machine (a library missing, memory or file handles or disk space short) or
a file whose format is whole but that this version cannot read leaves the file untouched, with
another message (model.unavailable)."""
from __future__ import annotations

import errno
import json
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from digitdash.i18n import Problem
from digitdash.reading import reference
from digitdash.reading.forward import Network, UnsupportedLayer

MAX_MODELS = 8
LAYERS_FILE = "layers.npz"          # beside model.keras: the same network as plain arrays
_models: OrderedDict[tuple[str, float], object] = OrderedDict()
_lock = threading.Lock()        # guards _models and _loading, never held while loading
_loading: dict[tuple[str, float], threading.Lock] = {}    # one gate per file being loaded


class ModelError(Problem):
    """A stored model that cannot be used (missing or damaged file)."""


def load(path: Path):
    """(model, call on uint8 images -> probabilities) for the model file at path, loaded once per
    process (reloaded if the file changes). A Keras run's model is a forward.Network. A slow load
    (TensorFlow's import, a large file) holds up only those asking for the same file."""
    path = Path(path)
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        raise ModelError("model.missing", path=str(path)) from None
    with _lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key]
        gate = _loading.setdefault(key, threading.Lock())
    with gate:
        with _lock:
            if key in _models:          # loaded by whoever held the gate before us
                _models.move_to_end(key)
                return _models[key]
        try:
            loaded = _load(path)
        except Exception as exc:    # noqa: BLE001 - told apart below: the file's fault or the machine's
            with _lock:
                _loading.pop(key, None)
            raise refusal(path, exc) from None
        with _lock:
            _loading.pop(key, None)
            _models[key] = loaded
            while len(_models) > MAX_MODELS:
                _models.popitem(last=False)
            return loaded


# The machine's trouble, not the file's: the file is left as it is.
MACHINE_ERRORS = (ImportError, MemoryError, RecursionError)
MACHINE_ERRNOS = {errno.ENOSPC, errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN, errno.EINTR, errno.EIO,
                  errno.EACCES, errno.EPERM, errno.EROFS, errno.EBUSY, errno.ETXTBSY, errno.EDQUOT}
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def refusal(path: Path, exc: BaseException) -> ModelError:
    """Why a model file did not load: model.damaged only when its own format proves it broken."""
    if not machine_trouble(exc):
        broken = damage(path)
        if broken:
            return ModelError("model.damaged", file=path.name, reason=broken)
    return ModelError("model.unavailable", file=path.name, reason=_reason(exc))


def machine_trouble(exc: BaseException) -> bool:
    """An error of the machine (a library missing, memory, file handles, disk space, permissions),
    here or in what it was raised from (Keras wraps what it meets)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, MACHINE_ERRORS) or (isinstance(exc, OSError) and exc.errno in MACHINE_ERRNOS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def damage(path: Path) -> str | None:
    """What makes the model file unreadable by its own format, or None when it looks whole (or
    cannot be looked at just now, which proves nothing)."""
    path = Path(path)
    try:
        if path.suffix in (".keras", ".npz"):
            return _zip_damage(path)
        with open(path, "rb") as f:         # a joblib pickle: protocol 2+ header, STOP at the very end
            head = f.read(2)
            f.seek(0, 2)
            if f.tell() < 3:
                return "empty file"
            f.seek(-1, 2)
            tail = f.read(1)
        if head[:1] != b"\x80" or tail != b".":
            return "not a whole pickle"
        return None
    except (MemoryError, OSError):
        return None


def _zip_damage(path: Path) -> str | None:
    with open(path, "rb") as f:           # OSError (missing, unreadable just now): proves nothing
        f.read(4)
    if not zipfile.is_zipfile(path):
        return "not a zip archive"
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()                        # reads every member, checking its CRC
            if bad is not None:
                return f"{bad}: bad checksum"
            names = z.namelist()
            if path.suffix == ".keras":
                if "config.json" not in names:
                    return "no config.json"
                config = json.loads(z.read("config.json"))
                if not isinstance(config, dict) or "class_name" not in config:
                    return "config.json is not a model's"
                for name in names:
                    if name.endswith(".h5"):
                        with z.open(name) as member:
                            if member.read(8) != HDF5_SIGNATURE:
                                return f"{name}: not HDF5"
            else:
                for name in names:
                    with z.open(name) as member:
                        major, _ = np.lib.format.read_magic(member)
                        (np.lib.format.read_array_header_1_0 if major == 1 else
                         np.lib.format.read_array_header_2_0)(member, max_header_size=1 << 20)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, ValueError, UnicodeDecodeError) as exc:
        return type(exc).__name__
    return None


def _load(path: Path):
    """(model, call on uint8 images (N, H, W, C) -> probabilities)."""
    if path.suffix == ".keras":
        return _keras_run(path)
    from digitdash.digits.arrays import flat
    if path.suffix == ".npz":
        from digitdash.learning.numpy_mlp import NumpyMLP
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
    """Class probabilities from a stored run's model. A damaged model file (predict.damage) is set
    aside and the run says so (store.quarantine_model), so it is reported once and never offered
    again; a model the machine cannot load just now (model.unavailable) is left as it is."""
    if run_id == reference.ID:            # the model that ships with DigitDash, not a run of the store
        return reference.probabilities(images)
    path = store.model_path(run_id)
    if path is None:
        raise ModelError("model.missing", path=str(store.run_dir(run_id)))
    try:
        return probabilities(path, images)
    except ModelError as exc:
        if exc.message.key == "model.damaged":
            store.quarantine_model(run_id, exc.message)
        raise
