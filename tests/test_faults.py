"""Parts failing: the server restarted mid-run, the disk full while a model is saved, a corrupt model
file (set aside) and a machine that cannot load a whole one just now (left alone), a store written
by an older DigitDash. Each leaves a readable store, the run marked with what happened, and the app
working. (A worker killed mid-run: test_jobs and test_dead_runs; the disk full under the pages:
test_full_disk.)"""
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digitdash.i18n import Message, catalogue
from digitdash.plan.config import RunConfig
from digitdash.reading.predict import ModelError, run_probabilities
from digitdash.runs import store as store_module
from digitdash.runs.schema import VERSION as SCHEMA_VERSION
from digitdash.runs.store import Store, StoreError
from digitdash.workers.runners import LocalRunner
from digitdash.workers.worker import execute

from conftest import ROOT, at_home, copy_home, finished, wait_for

SMALL = RunConfig(layers=(32,), epochs=2, batch_size=64)


@pytest.mark.slow
def test_the_server_restarted_mid_run_loses_nothing(seeded, digitdash_home):
    # The "server": one process holding the runner, as the app does; it submits and is killed.
    code = ("import sys, time\n"
            "from digitdash.plan.config import RunConfig\nfrom digitdash.workers.runners import LocalRunner\n"
            "from digitdash.runs.store import Store\n"
            "r = LocalRunner(Store())\n"
            "print(r.submit(RunConfig(layers=(32,), epochs=12, batch_size=64)), flush=True)\n"
            "time.sleep(600)\n")
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "DIGITDASH_HOME": str(digitdash_home)})
    run_id = server.stdout.readline().strip()
    store = Store(digitdash_home)
    wait_for(lambda: len(store.epochs(run_id)) >= 1)
    server.send_signal(signal.SIGKILL)
    server.wait()
    # The restarted server: a new runner over the same store. The worker lived on and finishes.
    runner = LocalRunner(Store(digitdash_home))
    assert runner.store.reap() == []                       # the run is not taken for dead
    run = wait_for(finished(runner.store, run_id))
    assert run["status"] == "done", run["message"]
    assert [e["epoch"] for e in runner.store.epochs(run_id)] == list(range(1, 13))
    again = runner.submit(SMALL.replace(epochs=1))
    assert wait_for(finished(runner.store, again))["status"] == "done"


@pytest.mark.slow
def test_a_full_disk_while_saving_the_model_keeps_the_figures(digitdash_home, monkeypatch):
    store = Store(digitdash_home)
    run_id = store.create(SMALL, status="running")
    real_replace = os.replace

    def disk_full(src, dst, *a, **k):
        if "model" in str(dst):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *a, **k)
    monkeypatch.setattr(store_module.os, "replace", disk_full)
    run = execute(store, run_id)
    assert run["status"] == "failed"
    assert "could not be saved (No space left on device)" in run["message"]
    assert run["message"].key == "run.not_saved"                 # said in Spanish on the page too
    assert run["results"]["test_accuracy"] > 0.5 and len(store.epochs(run_id)) == 2
    assert store.model_path(run_id) is None
    assert [p.name for p in store.run_dir(run_id).iterdir() if "tmp" in p.name] == []   # no half-written file
    monkeypatch.setattr(store_module.os, "replace", real_replace)   # space freed: the next run saves
    again = store.create(SMALL.replace(epochs=1), status="running")
    assert execute(store, again)["status"] == "done" and store.model_path(again) is not None


@pytest.mark.slow
def test_a_corrupt_model_file_is_reported_once_and_set_aside(digitdash_home, one_trained_run):
    store = Store(digitdash_home)
    run_id = one_trained_run
    store.model_path(run_id).write_bytes(b"PK\x03\x04 this is not a keras archive")
    with pytest.raises(ModelError, match="damaged and cannot be loaded"):
        run_probabilities(store, run_id, np.zeros((1, 28, 28, 1), np.uint8))
    run = store.get(run_id)
    assert run["status"] == "done" and run["message"].key == "model.damaged"
    assert store.model_path(run_id) is None and (store.run_dir(run_id) / "damaged-model.keras").exists()
    assert len(store.epochs(run_id)) == 1                       # the curves are kept
    # the app keeps working: Draw no longer offers the model (only the reference that ships), Compare
    # still shows the run
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/draw.py").run()
    (offered,) = at.multiselect(key="models").options
    assert not at.exception and offered.startswith(catalogue("en")["draw.reference"])
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and list(at.dataframe[0].value["name"]) == [run["name"]]


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'keras', dataset TEXT NOT NULL, config TEXT NOT NULL,
    owner TEXT, grp TEXT, message TEXT NOT NULL DEFAULT '', device TEXT,
    created REAL NOT NULL, started REAL, finished REAL, heartbeat REAL, worker_pid INTEGER,
    stop_requested INTEGER NOT NULL DEFAULT 0, params INTEGER, flops INTEGER,
    info TEXT NOT NULL DEFAULT '{}', results TEXT NOT NULL DEFAULT '{}');
CREATE TABLE epochs (
    run_id TEXT NOT NULL, epoch INTEGER NOT NULL, loss REAL, accuracy REAL, val_loss REAL,
    val_accuracy REAL, lr REAL, seconds REAL, PRIMARY KEY (run_id, epoch));
CREATE TABLE batches (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, epoch INTEGER NOT NULL, loss REAL,
    PRIMARY KEY (run_id, step));
INSERT INTO meta VALUES ('schema_version', '1');
"""


def old_store(home, version="1"):
    home.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(home / "digitdash.sqlite")
    db.executescript(V1_SCHEMA)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    db.execute("INSERT INTO runs (id, seq, name, status, dataset, config, message, created, results)"
               " VALUES ('0101-000000-abcd', 1, 'from last year', 'done', 'mnist-5k', ?, 'Stopped early at epoch 3.', 1.0, ?)",
               (RunConfig().to_json(), json.dumps({"test_accuracy": 0.97})))
    db.execute("INSERT INTO epochs VALUES ('0101-000000-abcd', 1, 0.5, 0.9, 0.4, 0.91, 0.001, 1.5)")
    db.commit()
    db.close()


def test_a_store_from_an_older_schema_is_migrated_keeping_every_run(digitdash_home):
    old_store(digitdash_home)
    store = Store(digitdash_home)
    run = store.get("0101-000000-abcd")
    assert run["name"] == "from last year" and run["message"] == "Stopped early at epoch 3."
    assert run["results"]["test_accuracy"] == 0.97 and len(store.epochs(run["id"])) == 1
    with sqlite3.connect(digitdash_home / "digitdash.sqlite") as db:
        assert db.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)
    new = store.create(SMALL, status="running")                   # and new runs work beside it
    store.finish(new, "stopped", Message("run.cancelled"))
    assert store.get(new)["message"].key == "run.cancelled"
    Store(digitdash_home)                                         # opening it again is a no-op
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and "from last year" in list(at.dataframe[0].value["name"])


def test_a_store_from_a_newer_digitdash_is_refused_with_one_message(digitdash_home):
    old_store(digitdash_home, version=str(SCHEMA_VERSION + 1))
    with pytest.raises(StoreError, match="written by a newer DigitDash"):
        Store(digitdash_home)
    with sqlite3.connect(digitdash_home / "digitdash.sqlite") as db:    # and left untouched
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory):
    """A store with one run trained a single epoch, trained once for the module."""
    with at_home(tmp_path_factory.mktemp("one-trained-run")) as home:
        store = Store(home)
        run_id = store.create(SMALL.replace(epochs=1), status="running")
        assert execute(store, run_id)["status"] == "done"
    return home, run_id


@pytest.fixture
def one_trained_run(trained_store, digitdash_home) -> str:
    """That run, in a copy of its store that is this test's home (tests here spoil its files)."""
    home, run_id = trained_store
    copy_home(home, digitdash_home)
    return run_id


@pytest.mark.parametrize("trouble", [ImportError("No module named 'keras'"), MemoryError(),
                                     OSError(errno.EMFILE, os.strerror(errno.EMFILE)),
                                     OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
                                     ValueError("a whole file this Keras cannot read")])
def test_a_model_the_machine_cannot_load_just_now_is_left_untouched(digitdash_home, monkeypatch, trouble,
                                                                   one_trained_run):
    from digitdash.reading import predict
    store = Store(digitdash_home)
    run_id = one_trained_run
    path, data = store.model_path(run_id), store.model_path(run_id).read_bytes()
    path.touch()                                    # newer than its layers: the Keras file itself is loaded

    def cannot(p):
        raise trouble
    monkeypatch.setattr(predict, "_load", cannot)
    with pytest.raises(ModelError) as refused:
        run_probabilities(store, run_id, np.zeros((1, 28, 28, 1), np.uint8))
    assert refused.value.message.key == "model.unavailable" and "file is kept" in refused.value.message
    assert store.model_path(run_id) == path and path.read_bytes() == data          # not renamed, not touched
    assert not list(store.run_dir(run_id).glob("damaged-*")) and store.get(run_id)["message"] == ""
    monkeypatch.undo()                              # the machine recovers: the same file answers
    assert run_probabilities(store, run_id, np.zeros((1, 28, 28, 1), np.uint8)).shape == (1, 10)


def test_keras_missing_on_the_server_does_not_set_a_model_aside(digitdash_home, monkeypatch, one_trained_run):
    store = Store(digitdash_home)
    run_id = one_trained_run
    (store.run_dir(run_id) / "layers.npz").unlink()      # only the Keras file: it needs Keras to load
    store.model_path(run_id).touch()                      # (and is loaded anew, not from this process's cache)
    monkeypatch.setitem(sys.modules, "keras", None)       # `import keras` fails: ImportError
    with pytest.raises(ModelError) as refused:
        run_probabilities(store, run_id, np.zeros((1, 28, 28, 1), np.uint8))
    assert refused.value.message.key == "model.unavailable" and "ModuleNotFoundError" in refused.value.message
    assert store.model_path(run_id) is not None and store.get(run_id)["message"] == ""


@pytest.mark.parametrize("spoil", ["truncated", "garbage", "one byte flipped"])
def test_a_model_file_broken_by_its_own_format_is_set_aside(digitdash_home, spoil, one_trained_run):
    store = Store(digitdash_home)
    run_id = one_trained_run
    path = store.model_path(run_id)
    data = bytearray(path.read_bytes())
    if spoil == "truncated":
        data = data[:len(data) * 2 // 3]
    elif spoil == "garbage":
        data = bytearray(os.urandom(len(data)))
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError) as refused:
        run_probabilities(store, run_id, np.zeros((1, 28, 28, 1), np.uint8))
    assert refused.value.message.key == "model.damaged"
    assert store.model_path(run_id) is None and (store.run_dir(run_id) / "damaged-model.keras").exists()
    assert store.get(run_id)["message"].key == "model.damaged"


def test_damage_is_told_by_each_files_own_format(tmp_path):
    import joblib
    from sklearn.linear_model import LogisticRegression

    from digitdash.reading.predict import damage
    np.savez(tmp_path / "model.npz", w=np.zeros((3, 4)), b=np.ones(2))
    joblib.dump(LogisticRegression().fit(np.eye(4), [0, 1, 0, 1]), tmp_path / "model.joblib")
    (tmp_path / "model.keras").write_bytes(b"PK\x03\x04 this is not a keras archive")
    assert damage(tmp_path / "model.npz") is None and damage(tmp_path / "model.joblib") is None
    assert damage(tmp_path / "model.keras") == "not a zip archive"
    for name in ("model.npz", "model.joblib"):
        whole = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(whole[:-20])
        assert damage(tmp_path / name), name
    assert damage(tmp_path / "missing.keras") is None       # cannot be looked at now: proves nothing
