"""The run store: who may change a run, the fair queue and the teacher's moves, students' names.
(Schema migrations and a full disk are in test_faults.)"""
import os

import pytest

from digitdash.i18n import Problem
from digitdash.plan.config import RunConfig
from digitdash.reading import leaderboard
from digitdash.runs.store import Store, StoreError, fair_order

A, B, C = "s-aaaaaaaaaaaaaaaa", "s-bbbbbbbbbbbbbbbb", "s-cccccccccccccccc"


def test_the_store_lets_a_session_change_only_its_own_runs(runs):
    store, mine, theirs = runs
    store.rename(mine, "still mine", by="me")
    assert store.get(mine)["name"] == "still mine"
    with pytest.raises(StoreError, match="belongs to another session"):
        store.rename(theirs, "hijacked", by="me")
    with pytest.raises(StoreError, match="belongs to another session"):
        store.delete(theirs, by="me")
    assert store.get(theirs)["name"] == "theirs"
    store.delete(theirs, by="me", teacher=True)
    store.delete(mine, by="me")
    assert store.runs() == []


def test_the_store_lets_only_the_owner_or_the_teacher_stop_a_run(digitdash_home):
    store = Store(digitdash_home)
    a = store.create(RunConfig(), name="a's", owner="s-aaaaaaaaaaaaaaaa")
    cli = store.create(RunConfig(), name="teacher's", owner="teacher")
    for run_id in (a, cli):
        with pytest.raises(StoreError, match="belongs to another session"):
            store.request_stop(run_id, by="s-bbbbbbbbbbbbbbbb")       # student B, through the store itself
        assert store.get(run_id)["status"] == "queued"
    assert store.request_stop(a, by="s-aaaaaaaaaaaaaaaa") == "stopped"
    assert store.request_stop(cli, by="s-bbbbbbbbbbbbbbbb", teacher=True) == "stopped"


def test_clearing_the_store_keeps_running_runs(runs):
    store, mine, theirs = runs
    running = store.create(RunConfig(), name="busy", owner="x", status="running")
    assert store.clear() == 2
    assert [r["id"] for r in store.runs()] == [running]


def names(store, order):
    return [store.get(i)["name"] for i in order]


def test_the_queue_goes_round_the_class(digitdash_home):
    store = Store(digitdash_home)
    for name, owner in (("a1", A), ("a2", A), ("a3", A), ("b1", B), ("b2", B), ("c1", C)):
        store.create(RunConfig(), name=name, owner=owner)
    assert names(store, store.queue()) == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert store.claim_next(os.getpid())["name"] == "a1"          # A now has a run training ...
    store.create(RunConfig(), name="d1", owner="s-dddddddddddddddd")
    assert names(store, store.queue()) == ["b1", "c1", "d1", "a2", "b2", "a3"]   # ... so D's first goes before A's second
    assert [store.claim_next(os.getpid())["name"] for _ in range(3)] == ["b1", "c1", "d1"]


def test_the_teacher_moves_a_waiting_run_to_the_front_or_the_back(digitdash_home):
    store = Store(digitdash_home)
    ids = [store.create(RunConfig(), name=f"r{i}", owner=f"s-{i:016x}") for i in range(4)]
    store.move(ids[3], "front")
    store.move(ids[0], "back")
    assert names(store, store.queue()) == ["r3", "r1", "r2", "r0"]
    assert store.claim_next(os.getpid())["name"] == "r3"


def test_fair_order_is_plain_submission_order_when_every_owner_differs():
    runs = [{"id": str(i), "seq": i, "owner": f"o{i}", "pin": 0} for i in range(5)]
    assert fair_order(runs[::-1], []) == ["0", "1", "2", "3", "4"]


def test_store_names_and_leaderboard(digitdash_home):
    store = Store(digitdash_home)
    assert store.set_student_name(A, "  Ana   María ") == "Ana María"
    with pytest.raises(Problem):          # text.TextError: one message, nothing stored
        store.set_student_name(A, "   ")
    for owner, acc in ((A, 0.9), (A, 0.95), (B, 0.97), (C, None)):
        run_id = store.create(RunConfig(), owner=owner)
        store.finish(run_id, "done" if acc else "failed", "", {"test_accuracy": acc} if acc else {})
    board = leaderboard.best_per_owner(store.runs())
    assert [(b["owner"], b["test_accuracy"], b["runs"]) for b in board] == [(B, 0.97, 1), (A, 0.95, 2)]
    assert store.owner_name(A) == "Ana María" and store.owner_name(None) == "teacher"


def test_a_runs_library_says_who_trains_it_and_older_stores_are_corrected(digitdash_home):
    import sqlite3
    store = Store(digitdash_home)
    ids = {k: store.create(RunConfig(architecture=k, layers=(8,))) for k in ("mlp", "cnn", "logreg", "numpy-mlp")}
    assert {k: store.get(i)["library"] for k, i in ids.items()} == {
        "mlp": "keras", "cnn": "keras", "logreg": "scikit-learn", "numpy-mlp": "numpy"}
    with sqlite3.connect(digitdash_home / "digitdash.sqlite") as db:     # as version 3 wrote every run
        db.execute("UPDATE runs SET kind = 'keras'")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    store = Store(digitdash_home)
    assert store.get(ids["logreg"])["library"] == "scikit-learn" and store.get(ids["numpy-mlp"])["library"] == "numpy"
    assert store.get(ids["cnn"])["config"].architecture == "cnn" and "kind" not in store.get(ids["cnn"])


def test_opening_a_store_takes_no_write_lock(digitdash_home):
    import sqlite3
    import time
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(), name="kept")
    writer = sqlite3.connect(digitdash_home / "digitdash.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")                  # a worker in the middle of a write
    try:
        start = time.monotonic()
        assert Store(digitdash_home).get(run_id)["name"] == "kept"
        assert time.monotonic() - start < 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_deleting_a_run_leaves_nothing_of_it(digitdash_home, mnist5k):
    import sqlite3

    from digitdash.learning import controls
    from digitdash.reading import handwriting
    from digitdash.workers import worker as jobs
    store = Store(digitdash_home)
    handwriting.add(store, mnist5k.x_test[0, ..., 0], int(mnist5k.y_test[0]), A)
    run_id = store.create(RunConfig(layers=(8,), epochs=1, batch_size=256), owner=A, status="running")
    controls.ask(store, run_id, "lr", 0.002, by=A)          # a change asked while it trained
    assert jobs.execute(store, run_id)["status"] == "done"
    assert handwriting.score(store, run_id)["total"] == 1   # its answer to the class's drawing
    store.stop_file(run_id).touch()
    other = store.create(RunConfig(layers=(8,)), name="other", owner=A)
    store.delete(run_id, by=A)
    with sqlite3.connect(digitdash_home / "digitdash.sqlite") as db:
        left = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for column in [c[1] for c in db.execute(f"PRAGMA table_info('{table}')")]:
                n = db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (run_id,)).fetchone()[0]
                if n:
                    left[f"{table}.{column}"] = n
    assert left == {}
    assert [p for p in digitdash_home.rglob("*") if run_id in str(p)] == []        # its folder: model, arrays, files
    assert [r["name"] for r in store.runs()] == ["other"] and store.get(other)
    assert len(handwriting.listing(store)) == 1                                       # the drawing is the class's


def test_a_run_a_worker_holds_is_not_deleted(digitdash_home):
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(), owner=A)
    assert store.claim_next(os.getpid())["id"] == run_id
    with pytest.raises(StoreError, match="is running"):
        store.delete(run_id, by=A)
    assert store.get(run_id)["status"] == "running"


def test_a_deleted_run_gets_no_rows_back_and_takes_its_emptied_archive_along(digitdash_home):
    """A worker taken for dead that wakes after its run was deleted (a laptop opened again) writes
    nothing back for it: no epoch, no batch, no change. An archive left without runs goes with its last one."""
    import sqlite3

    from digitdash.learning import controls
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(layers=(8,)), owner=A, status="running")
    store.finish(run_id, "interrupted", "")
    archive_id, _ = store.archive("Lesson 1")
    store.delete(run_id, by=A)
    store.add_epoch(run_id, {"epoch": 1, "loss": 0.5})
    store.add_batches(run_id, [(1, 1, 0.5)])
    controls.record(store, run_id, "resume", controls.TIMER, 10, 1)
    with sqlite3.connect(digitdash_home / "digitdash.sqlite") as db:
        left = {table: n for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
                if "run_id" in [c[1] for c in db.execute(f"PRAGMA table_info('{table}')")]
                and (n := db.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", (run_id,)).fetchone()[0])}
    assert left == {}
    assert store.archives() == []
    with pytest.raises(StoreError, match="No archive"):
        store.unarchive(archive_id)
