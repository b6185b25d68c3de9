"""The disk full under a class's store (issue 26): the pages that only read (Home, Compare, Draw's
models, Inside, Data, Train's view of a run) still show everything stored, say once that new work
cannot be saved, and leave every stored byte as it was.

The full disk is a child process in which no file may grow (RLIMIT_FSIZE 0: a write that would
extend a file fails, as on a full disk; SQLite then cannot make the -shm index it reads a WAL
database through, which is what made every page say only "The run store cannot be written")."""
import errno
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from digitdash.i18n import catalogue
from digitdash.plan.config import RunConfig
from digitdash.reading import handwriting
from digitdash.runs.store import Store
from digitdash.workers import worker as jobs

from conftest import ROOT

EN = catalogue("en")
ANA = "s-aaaaaaaaaaaaaaaa"
PAGES = ["home", "compare", "draw", "inside", "data", "train"]

CHILD = """
import json, os, resource, signal, sys, tempfile
import numpy as np
tempfile.gettempdir()                      # AppTest's own temporary folder, found before the disk fills
from streamlit.testing.v1 import AppTest
from digitdash.reading import predict
from digitdash.runs.store import Store
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
root, owner, run_id = sys.argv[1:4]
out = {}
for page in sys.argv[4].split(","):
    at = AppTest.from_file(os.path.join(root, "app.py"), default_timeout=120)
    at.session_state["owner"] = owner
    at.run()
    if page != "home":
        at.switch_page(f"app_pages/{page}.py").run()
    out[page] = {"exception": [e.value for e in at.exception], "error": [e.value for e in at.error],
                 "warning": [e.value for e in at.warning], "title": [e.value for e in at.title],
                 "subheader": [e.value for e in at.subheader], "dataframes": len(at.dataframe)}
def attempt(what):
    try:
        return what()
    except Exception as exc:
        return type(exc).__name__
store = attempt(Store)
out["unwritable"] = attempt(lambda: store.unwritable())
out["digit"] = attempt(lambda: int(predict.run_probabilities(store, run_id, np.zeros((1, 28, 28, 1), np.uint8)).argmax()))
out["write"] = attempt(lambda: store.set_student_name(owner, "Bea"))
print("RESULT " + json.dumps(out))
"""


def fingerprint(home) -> dict:
    """Every stored file's bytes (the SQLite side files aside: they hold no data once all is closed)."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.rglob("*"))
            if p.is_file() and not p.name.endswith(("-shm", "-wal"))}


@pytest.mark.slow
def test_with_the_disk_full_the_pages_show_what_is_stored_and_say_once_it_cannot_be_saved(digitdash_home, mnist5k):
    store = Store(digitdash_home)
    store.set_student_name(ANA, "Ana")
    handwriting.add(store, mnist5k.x_test[0, ..., 0], int(mnist5k.y_test[0]), ANA)
    run_id = store.create(RunConfig(layers=(16,), epochs=1, batch_size=128), name="ana's first", owner=ANA,
                          status="running")
    assert jobs.execute(store, run_id)["status"] == "done"
    handwriting.scores(store, store.runs())       # its answers to the class's drawing, kept before the disk fills
    before = fingerprint(digitdash_home)
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), ANA, run_id, ",".join(PAGES)], cwd=ROOT,
                         env={**os.environ, "DIGITDASH_HOME": str(digitdash_home), "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=600)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, out.stderr[-3000:]
    seen = json.loads(lines[0][len("RESULT "):])
    unsaved = EN["store.read_only"].split(":")[0]              # "New work cannot be saved right now"
    for page in PAGES:
        shown = seen[page]
        assert not shown["exception"], (page, shown["exception"])
        assert not shown["error"], (page, shown["error"])       # not "The run store cannot be written" alone
        assert shown["title"], page
        assert sum(unsaved in w for w in shown["warning"]) <= 1, (page, shown["warning"])
    for page in ("home", "inside", "data"):
        assert sum(unsaved in w for w in seen[page]["warning"]) == 1, (page, seen[page]["warning"])
    assert seen["home"]["subheader"] and seen["compare"]["dataframes"] >= 1
    assert EN["data.ours"] in seen["data"]["subheader"] and seen["inside"]["subheader"]
    assert "ana's first" in seen["train"]["subheader"]
    assert isinstance(seen["unwritable"], str) and seen["digit"] in range(10)   # Draw's models still read
    assert seen["write"] == "StoreError"                        # new work is refused, with the store's message
    assert fingerprint(digitdash_home) == before                # nothing stored changed, nothing was lost
    assert store.student_names() == {ANA: "Ana"} and store.model_path(run_id) is not None
    assert np.isfinite(store.epochs(run_id)[0]["loss"])


def test_a_file_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """paths.write_atomic: bytes, text, or what a writer puts in the temporary it is given; a write
    that fails leaves the old file as it was and no temporary beside it."""
    from digitdash import paths
    target = tmp_path / "kept.txt"
    paths.write_atomic(target, "first")
    paths.write_atomic(tmp_path / "arrays.npz", lambda tmp: np.savez(tmp, x=np.arange(3)))
    paths.write_atomic(tmp_path / "secret", b"key", mode=0o600)
    assert target.read_text() == "first" and np.load(tmp_path / "arrays.npz")["x"].tolist() == [0, 1, 2]
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600

    def half_written(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with pytest.raises(OSError):
        paths.write_atomic(target, half_written)
    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        paths.write_atomic(target, "second")
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz", "kept.txt", "secret"]


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class Model:
    """A model as the store saves one: a suffix, and save(path)."""
    suffix = ".npz"

    def save(self, path):
        np.savez(path, w=np.ones(3))


# Every file the app replaces whole: (the file, a call that writes it again).
def limits_file(home):
    from digitdash.plan import limits
    return limits.path(), lambda: limits.save(limits.with_changes(limits.load(), max_epochs=7))


def teacher_key(home):
    from digitdash.classroom import teacher_gate
    return home / teacher_gate.KEY_FILE, lambda: teacher_gate.key(home, new=True)


def dataset_cache(home):
    from digitdash.digits import datasets
    return home / "cache" / "kept.npz", lambda: datasets._keep(home / "cache" / "kept.npz", x=np.arange(3))


def run_arrays(home):
    store = Store(home)
    run_id = store.create(RunConfig())
    return store.run_dir(run_id) / "mistakes.npz", lambda: store.save_arrays(run_id, "mistakes", {"x": np.arange(3)})


def run_model(home):
    store = Store(home)
    run_id = store.create(RunConfig())
    return store.run_dir(run_id) / "model.npz", lambda: store.save_model(run_id, Model())


@pytest.mark.parametrize("written", [limits_file, teacher_key, dataset_cache, run_arrays, run_model])
def test_every_file_replaced_whole_is_left_as_it_was_when_the_disk_fills(digitdash_home, monkeypatch, written):
    """A rewrite that the full disk stops leaves the file as it was and no temporary beside it."""
    file, write = written(digitdash_home)
    write()
    before = {p.name: p.read_bytes() for p in file.parent.iterdir() if p.is_file()}
    assert file.name in before
    monkeypatch.setattr(os, "replace", disk_full)
    try:
        write()
    except OSError:
        pass                                    # told to the caller (a dataset's cache only costs speed: kept quiet)
    assert {p.name: p.read_bytes() for p in file.parent.iterdir() if p.is_file()} == before
