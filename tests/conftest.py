import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MNIST_PARTIAL = (ROOT.parent / "shared" / "datasets" / "mnist-partial").resolve()
sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def digitdash_home(tmp_path, monkeypatch):
    """Every test gets its own empty run store."""
    home = tmp_path / "home"
    monkeypatch.setenv("DIGITDASH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def mnist5k():
    from digitdash import datasets
    return datasets.load("mnist-5k")


@pytest.fixture(scope="session")
def mnist_partial_name():
    if not MNIST_PARTIAL.is_dir():
        pytest.fail(f"the shared MNIST folder {MNIST_PARTIAL} is missing")
    return f"idx:{MNIST_PARTIAL}"


def wait_for(predicate, timeout=180, every=0.2):
    """Poll predicate until it returns something truthy; return that, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting")
