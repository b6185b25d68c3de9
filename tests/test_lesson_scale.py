"""A lesson's end: hundreds of runs in the store. What a page reads does not grow with the store
where a student does not ask for all of it, and the teacher can put a lesson's runs away."""
import json
import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from digitdash.i18n import catalogue
from digitdash.plan.config import RunConfig
from digitdash.reading import compare, handwriting
from digitdash.runs import metrics
from digitdash.runs import store as store_module
from digitdash.runs.store import Store, StoreError

from conftest import ROOT

EN = catalogue("en")


def finished_run(store: Store, name: str, owner: str | None = None, epochs: int = 2, status: str = "done") -> str:
    """A finished run written straight into the store (no training), with its epochs and results."""
    run_id = store.create(RunConfig(layers=(16,), epochs=epochs), name=name, owner=owner, status="running")
    for e in range(1, epochs + 1):
        store.add_epoch(run_id, {"epoch": e, "loss": 1.0 / e, "accuracy": 0.8 + 0.05 * e, "val_loss": 1.2 / e,
                                 "val_accuracy": 0.75 + 0.05 * e, "seconds": 1.5})
    store.finish(run_id, status, "", {"test_accuracy": 0.9, "test_loss": 0.3})
    return run_id


@pytest.fixture
def store(digitdash_home):
    return Store(digitdash_home)


def test_the_counters_move_with_what_tables_show_and_not_with_heartbeats(store):
    before = store.changes()
    run_id = store.create(RunConfig(layers=(8,)), name="one", status="running")
    made = store.changes()
    assert made[0] > before[0] and made[1] > before[1]
    store.beat(run_id)                                   # a worker's sign of life every 2 s changes nothing shown
    store.update(run_id, heartbeat=123.0)
    assert store.changes() == made
    store.add_epoch(run_id, {"epoch": 1, "loss": 0.5, "accuracy": 0.9, "seconds": 1.0})
    epoch = store.changes()
    assert epoch[0] == made[0] and epoch[1] > made[1]   # an epoch: the table's figures, not the run's row
    store.rename(run_id, "renamed")
    assert store.changes()[0] > epoch[0]


def test_runs_are_parsed_once_per_change_however_often_a_page_asks(store, monkeypatch):
    ids = [finished_run(store, f"run {n}") for n in range(5)]
    parsed = []
    real = store_module._run
    monkeypatch.setattr(store_module, "_run", lambda row: parsed.append(row["id"]) or real(row))
    first = store.runs()
    assert [r["id"] for r in first] == ids and len(parsed) == 5
    for _ in range(20):                                   # a page polling every second
        assert [r["name"] for r in store.runs()] == [f"run {n}" for n in range(5)]
    assert len(parsed) == 5
    first[0]["name"] = "changed by a caller"              # what a caller does to its copy stays there
    assert store.runs()[0]["name"] == "run 0"
    assert [r["id"] for r in store.runs(("done",))] == ids and len(parsed) == 5   # other statuses: the same read
    store.rename(ids[2], "new name")
    parsed.clear()
    assert store.runs()[2]["name"] == "new name" and parsed == [ids[2]]          # only the run that changed


def test_a_request_opens_one_connection_for_all_its_reads(store, monkeypatch):
    run_id = finished_run(store, "one")
    opened = []
    real = Store._open
    monkeypatch.setattr(Store, "_open", lambda self: opened.append(1) or real(self))
    store.get(run_id), store.epochs(run_id), store.queue()
    assert len(opened) >= 3                               # a call on its own: a connection each
    opened.clear()
    with store.request():
        store.get(run_id), store.epochs(run_id), store.batches(run_id), store.queue(), store.runs(), store.changes()
        with store.request():                             # nested: the same one
            store.student_names()
    assert len(opened) == 1


def test_a_finished_run_keeps_its_epoch_figures_and_an_older_store_gets_them(store, digitdash_home):
    run_id = finished_run(store, "kept", epochs=3)
    kept = store.get(run_id)["figures"]
    assert kept == metrics.epoch_figures(store.epochs(run_id))
    assert kept["epochs run"] == 3 and kept["train time s"] == 4.5 and kept["best accuracy"] == pytest.approx(0.95)
    running = store.create(RunConfig(layers=(8,)), name="training", status="running")
    store.add_epoch(running, {"epoch": 1, "loss": 0.7, "accuracy": 0.6, "seconds": 2.0})
    assert store.get(running)["figures"] is None          # still training: added up when asked
    assert store.figures(store.runs())[running]["final loss"] == 0.7
    with sqlite3.connect(digitdash_home / "digitdash.sqlite") as db:     # as version 7 left it
        db.execute("UPDATE runs SET figures = NULL")
        db.execute("DELETE FROM meta WHERE key IN ('runs', 'data')")
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    again = Store(digitdash_home)
    assert again.get(run_id)["figures"] == kept and again.get(running)["figures"] is None
    before = again.changes()
    again.rename(run_id, "counted again")
    assert again.changes()[0] > before[0]


def test_the_compare_table_reads_stored_answers_and_loads_no_model(store, monkeypatch, mnist5k):
    run_id = finished_run(store, "answered")
    (store.run_dir(run_id) / "model.joblib").write_bytes(b"stands for a model")
    drawings = [handwriting.add(store, mnist5k.x_test[i, ..., 0], int(mnist5k.y_test[i]), None, student=False)
                for i in range(4)]
    # the worker answered the first three when the run ended
    store.keep_answers(run_id, {d: int(mnist5k.y_test[i]) if i else 7 for i, d in enumerate(drawings[:3])})
    import digitdash.reading.predict
    monkeypatch.setattr(digitdash.reading.predict, "run_probabilities",
                        lambda *a, **k: pytest.fail("a table of many runs loaded a model"))
    (row,) = compare.table(store, store.runs(), predict=False)
    assert row["drawings read"] == "2/3" and row["our handwriting"] == pytest.approx(0.6667, abs=1e-4)
    assert row["train time s"] == 3.0 and row["epochs run"] == 2      # from the figures kept at its end


def test_the_compare_table_is_built_once_until_the_store_changes(store, monkeypatch):
    ids = [finished_run(store, f"run {n}") for n in range(3)]
    built = []
    real = compare.row
    monkeypatch.setattr(compare, "row", lambda *a, **k: built.append(1) or real(*a, **k))
    runs = store.runs()
    first = compare.table(store, runs, predict=False)
    assert len(built) == 3
    assert compare.table(store, runs, predict=False, owner_name=lambda o: "someone")[0]["owner"] == "someone"
    assert len(built) == 3 and first[0]["owner"] != "someone"
    store.rename(ids[0], "renamed")
    assert compare.table(store, store.runs(), predict=False)[0]["name"] == "renamed" and len(built) == 6


def test_students_who_see_the_runs_in_their_own_order_share_one_table(store, monkeypatch):
    """Each student's Compare puts their own runs first: thirty orders of the same runs are one table
    built once, each read back in its own order."""
    for n in range(4):
        finished_run(store, f"run {n}", owner=f"s-{n % 2:016d}")
    built = []
    real = compare.row
    monkeypatch.setattr(compare, "row", lambda *a, **k: built.append(1) or real(*a, **k))
    runs = store.runs()
    orders = [compare.newest_mine_first(runs, f"s-{n:016d}") for n in range(2)]
    assert [r["id"] for r in orders[0]] != [r["id"] for r in orders[1]]
    tables = [compare.table(store, order, predict=False) for order in orders]
    assert len(built) == 4
    for order, rows in zip(orders, tables):
        assert [row["id"] for row in rows] == [r["id"] for r in order]
        assert [row["name"] for row in rows] == [r["name"] for r in order]


def test_a_table_built_from_runs_read_before_a_change_is_not_kept_for_after_it(store):
    """A page reads the store's version, then its runs; a run renamed in between must not leave the old
    row kept under the new version (every student would be shown it until the next change)."""
    run_id = finished_run(store, "old name")
    version = store.changes()
    runs = store.runs()
    store.rename(run_id, "new name")                  # between the page's two reads
    assert compare.table(store, runs, predict=False, version=version)[0]["name"] == "old name"
    fresh_version = store.changes()
    assert compare.table(store, store.runs(), predict=False, version=fresh_version)[0]["name"] == "new name"


def test_the_table_puts_a_students_own_runs_first_newest_first_in_pages(store):
    mine = [finished_run(store, f"mine {n}", owner="s-me") for n in range(2)]
    theirs = [finished_run(store, f"theirs {n}", owner="s-other") for n in range(3)]
    order = [r["id"] for r in compare.newest_mine_first(store.runs(), "s-me")]
    assert order == mine[::-1] + theirs[::-1]
    assert compare.pages(0) == 1 and compare.pages(compare.PAGE_ROWS) == 1 and compare.pages(compare.PAGE_ROWS + 1) == 2


def test_the_teacher_archives_a_lessons_runs_and_brings_them_back(store):
    done = [finished_run(store, f"done {n}") for n in range(3)]
    training = store.create(RunConfig(layers=(8,)), name="training", status="running")
    waiting = store.create(RunConfig(layers=(8,)), name="waiting")
    with pytest.raises(StoreError, match="Only the teacher"):
        store.archive("Lesson 1", by="s-student")
    with pytest.raises(Exception, match="cannot be seen"):
        store.archive("Lesson\u200b 1", teacher=True)
    archive_id, moved = store.archive("  Lesson   1 ", by="s-teacher", teacher=True)
    assert moved == 3
    assert [r["id"] for r in store.runs()] == [training, waiting]          # training and waiting stay
    assert store.queue() == [waiting]
    assert [r["id"] for r in store.runs(archived=True)] == done
    assert store.get(done[0])["name"] == "done 0" and store.model_path(done[0]) is None   # kept, only put away
    (listed,) = store.archives()
    assert listed["name"] == "Lesson 1" and listed["runs"] == 3
    with pytest.raises(StoreError, match="no finished run to archive"):
        store.archive("Lesson 2", teacher=True)
    with pytest.raises(StoreError, match="Only the teacher"):
        store.unarchive(archive_id, by="s-student")
    assert store.unarchive(archive_id, teacher=True) == 3
    assert [r["id"] for r in store.runs()] == [*done, training, waiting] and store.archives() == []
    with pytest.raises(StoreError, match="No archive"):
        store.unarchive(archive_id, teacher=True)


@pytest.mark.slow
def test_archived_runs_leave_every_page_and_come_back_from_the_teacher_page(store, monkeypatch):
    import time

    from digitdash.classroom import teacher_gate
    monkeypatch.setattr(teacher_gate, "clock", time.time)
    for n in range(3):
        finished_run(store, f"lesson run {n}", owner="s-me")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["owner"] = "s-me"
    at.secrets["teacher_password"] = "s3cret"
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert len(at.dataframe[0].value) == 3
    at.switch_page("app_pages/teacher.py").run()
    at.text_input(key="teacher-password").set_value("s3cret").run()
    at.button(key="unlock").click().run()
    assert not at.exception
    assert at.text_input(key="archive-name").value == ""        # named by the click's time if left empty
    at.text_input(key="archive-name").set_value("Monday 3B").run()
    at.button(key="archive-runs").click().run()
    assert any(EN["teacher.archived"].format(n=3, name="Monday 3B") == s.value for s in at.success)
    assert store.runs() == [] and len(store.runs(archived=True)) == 3
    assert any("Monday 3B" in tx.value and "3" in tx.value for tx in at.text)
    at.switch_page("app_pages/compare.py").run()
    assert not at.dataframe and any(EN["compare.no_runs"] in i.value for i in at.info)
    at.switch_page("app_pages/teacher.py").run()
    (button,) = [b for b in at.button if b.key and b.key.startswith("unarchive-")]
    button.click().run()
    assert any(EN["teacher.unarchived"].format(n=3) == s.value for s in at.success)
    assert len(store.runs()) == 3


@pytest.mark.slow
def test_compare_shows_a_hundred_rows_at_a_time_own_runs_first(store):
    for n in range(120):
        finished_run(store, f"other {n:03d}", owner="s-other", epochs=1)
    mine = finished_run(store, "my run", owner="s-me", epochs=1)
    finished_run(store, "newest other", owner="s-other", epochs=1)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["owner"] = "s-me"
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == compare.PAGE_ROWS
    assert list(table["name"][:3]) == ["my run", "newest other", "other 119"]
    assert store.get(mine)["name"] == "my run"
    (rows_box,) = [b for b in at.selectbox if b.key.startswith("table-page")]
    assert rows_box.format_func(1) == "101-122 of 122"
    first_table = at.dataframe[0].proto.id
    rows_box.set_value(1).run()
    assert list(at.dataframe[0].value["name"]) == [f"other {n:03d}" for n in range(21, -1, -1)]
    assert at.dataframe[0].proto.id != first_table      # a new table, nothing ticked: ticks never change runs
    (again,) = [b for b in at.selectbox if b.key.startswith("table-page")]
    assert again.value == 1
    at.text_input(key="filter").set_value("no such run").run()
    assert not at.dataframe and any(EN["compare.no_match"] in i.value for i in at.info)


def test_a_refused_name_says_the_field_in_the_readers_language(store):
    from digitdash.i18n import say
    finished_run(store, "kept")
    with pytest.raises(Exception) as refused:
        store.archive("   ", teacher=True)
    assert store.archives() == []
    assert "archive name" in str(refused.value.message)
    assert "nombre de la clase archivada" in say(refused.value.message, "es")
    with pytest.raises(Exception) as renamed:
        store.rename(finished_run(store, "one"), "\u200b")
    assert "run name" in str(renamed.value.message) and "run_name" not in str(renamed.value.message)


def test_runs_made_in_the_same_second_with_the_same_four_hex_digits_get_different_ids(store, monkeypatch):
    """A class submitting at once: an id's second and its 4 random hex digits may meet an existing one."""
    digits = iter(["abcd", "abcd", "abcd", "beef"])
    monkeypatch.setattr(store_module.secrets, "token_hex", lambda n: next(digits))
    monkeypatch.setattr(store_module.time, "strftime", lambda fmt: "1202-101010-")
    first = store.create(RunConfig(layers=(8,)), name="first")
    second = store.create(RunConfig(layers=(8,)), name="second")
    assert (first, second) == ("1202-101010-abcd", "1202-101010-beef")
    assert [r["name"] for r in store.runs()] == ["first", "second"]


def test_the_command_line_archives_lists_and_brings_back(store, digitdash_home):
    import subprocess
    import sys
    done = [finished_run(store, f"done {n}") for n in range(2)]
    env = {"DIGITDASH_HOME": str(digitdash_home), "PATH": "/usr/bin:/bin"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "digitdash", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    out = cli("archive", "Friday")
    assert out.returncode == 0 and "2 run(s) archived as Friday" in out.stdout
    assert store.runs() == [] and [r["id"] for r in store.runs(archived=True)] == done
    listed = json.loads(cli("archive", "--list", "--json").stdout)
    assert [(a["name"], a["runs"]) for a in listed] == [("Friday", 2)]
    assert [r["id"] for r in json.loads(cli("runs", "--archived", "--json").stdout)] == done
    again = cli("archive")
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "no finished run to archive" in again.stderr
    assert cli("archive", "--back", str(listed[0]["id"])).returncode == 0 and len(store.runs()) == 2
    missing = cli("archive", "--back", "99")
    assert missing.returncode == 2 and "No archive 99" in missing.stderr


def test_starting_afresh_keeps_the_archived_lessons(store):
    kept = finished_run(store, "last week")
    store.archive("Last week", teacher=True)
    gone = finished_run(store, "today")
    assert store.clear() == 1
    assert [r["id"] for r in store.runs(archived=True)] == [kept] and store.runs() == []
    with pytest.raises(StoreError):
        store.get(gone)


def test_the_warm_up_leaves_the_parsed_runs_out_of_later_garbage_collections(store):
    """Each of Python's full garbage collections walks every object it tracks: with a lesson's
    thousand runs parsed, every student's page paid for them (Compare's first visit 0.32 s at 1,000
    runs, 0.22 s at 300). The server's warm-up parses them, then freezes what it made out of the
    collector's generations; the runs are still read as before."""
    import gc
    for n in range(3):
        finished_run(store, f"run {n}")
    from app_pages.parts import server
    server.warm_up.clear()                   # (once per process: an earlier test's server warmed up already)
    server._SETTLED.clear()                  # (conftest marks it done for every other test)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not at.exception
        warm = server.warm_up()
        warm.join(timeout=60)
        assert not warm.is_alive()
        config = server.store().runs()[0]["config"]       # what the warm-up parsed, kept by the store
        assert gc.is_tracked(config)                        # (a container the collector would walk)
        assert id(config) not in {id(o) for o in gc.get_objects()}, "still walked by every collection"
        assert [r["name"] for r in server.store().runs()] == ["run 0", "run 1", "run 2"]
    finally:
        server._SETTLED.append(True)
        gc.unfreeze()


def test_the_class_file_lists_runs_newest_first_whoever_owns_them(store):
    """Compare's CSV is one file for the class: a command-line run without an owner is not put first."""
    old = finished_run(store, "teacher's old run", owner=None)
    new = finished_run(store, "a student's new run", owner="s-0000000000000001")
    assert [r["id"] for r in compare.newest_first(store.runs())] == [new, old]


def test_a_figure_no_run_has_yet_is_an_empty_cell_not_the_word_none(store):
    """Runs read on no other hands and no class drawings yet: Compare showed "None" down those columns."""
    for n in range(2):
        finished_run(store, f"run {n}")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    for column in ("other hands", "our handwriting"):
        assert table[column].dtype.kind == "f" and table[column].isna().all(), table[column]
