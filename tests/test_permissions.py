"""Who may do what: a session renames and deletes only its own runs; the teacher password unlocks the rest."""
import pytest
from streamlit.testing.v1 import AppTest

from digitdash.i18n import catalogue
from digitdash.plan.config import RunConfig
from digitdash.runs.store import Store

from conftest import ROOT

pytestmark = pytest.mark.slow      # its shared fixtures train runs or start the app's workers

EN = catalogue("en")


class Page:
    """A page inside the whole app, as one browser session with the given owner id."""

    def __init__(self, owner: str, password: str | None = None, path: str = "app_pages/compare.py"):
        self.at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        self.at.session_state["owner"] = owner
        self.path = path
        if password:
            self.at.secrets["teacher_password"] = password

    def run(self) -> AppTest:
        self.at.run()
        return self.at.switch_page(self.path).run()


def page(owner: str, password: str | None = None, path: str = "app_pages/compare.py") -> Page:
    return Page(owner, password, path)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The teacher's gate keeps its tries in the store; each test moves its clock (clock[0] seconds)."""
    import time

    from digitdash.classroom import teacher_gate
    now = [time.time()]
    monkeypatch.setattr(teacher_gate, "clock", lambda: now[0])
    return now


def select(at: AppTest, name: str) -> AppTest:
    at.text_input(key="filter").set_value(name).run()
    return at


def test_a_student_sees_rename_and_delete_only_on_their_own_run(runs):
    at = select(page("me").run(), "mine")
    assert any(b.key == "rename" for b in at.button)   # the only run shown is the one managed
    at = select(page("me").run(), "theirs")
    assert not any(b.key in ("rename", "delete") for b in at.button)
    assert any(EN["compare.not_yours"] in c.value for c in at.caption)
    at = page("me", path="app_pages/teacher.py").run()
    assert any(EN["teacher.unset"][:30] in i.value for i in at.info)   # no password: no unlock box
    assert not any(b.key == "unlock" for b in at.button)


def test_the_teacher_password_unlocks_deleting_any_run_and_clearing(runs, clock):
    store, mine, theirs = runs
    at = page("me", password="s3cret", path="app_pages/teacher.py").run()
    at.text_input(key="teacher-password").set_value("wrong").run()
    at.button(key="unlock").click().run()
    assert "Not unlocked. The next try is heard in 1 s" in at.error[0].value
    at.text_input(key="teacher-password").set_value("s3cret").run()
    at.button(key="unlock").click().run()             # at once: refused, however right
    assert not any(b.key == "sign-out" for b in at.button) and at.error
    clock[0] += 1.0
    at.button(key="unlock").click().run()
    assert any(b.key == "sign-out" for b in at.button)
    assert any(EN["teacher.leaderboard"] in h.value for h in at.subheader)
    at.switch_page("app_pages/compare.py").run()
    at = select(at, "theirs")
    at.checkbox(key=f"confirm-delete-{theirs}").check().run()
    at.button(key="delete").click().run()
    assert [r["name"] for r in store.runs()] == ["mine"]
    at.switch_page("app_pages/teacher.py").run()
    at.checkbox(key="confirm-clear").check().run()
    at.button(key="clear-store").click().run()
    assert store.runs() == [] and not at.exception


def test_wrong_passwords_make_only_that_browser_wait(runs, clock):
    first = page("me", password="s3cret", path="app_pages/teacher.py").run()
    for expected in (1, 2, 4):
        first.text_input(key="teacher-password").set_value("guess").run()
        first.button(key="unlock").click().run()
        assert f"next try is heard in {expected} s" in first.error[0].value
        clock[0] += expected
    first.text_input(key="teacher-password").set_value("guess").run()
    first.button(key="unlock").click().run()                    # this browser now waits 8 s ...
    other = page("someone-else", password="s3cret", path="app_pages/teacher.py").run()   # ... the teacher's does not
    other.text_input(key="teacher-password").set_value("s3cret").run()
    other.button(key="unlock").click().run()
    assert any(b.key == "sign-out" for b in other.button) and not other.error


def test_teacher_rights_survive_a_reload_and_end_on_sign_out(runs, clock):
    at = page("teacher-browser", password="s3cret", path="app_pages/teacher.py").run()
    at.text_input(key="teacher-password").set_value("s3cret").run()
    at.button(key="unlock").click().run()
    again = page("teacher-browser", password="s3cret", path="app_pages/teacher.py").run()   # a reload: a new session
    assert any(b.key == "sign-out" for b in again.button)
    again.button(key="sign-out").click().run()
    assert any(b.key == "unlock" for b in again.button)
    assert not any(b.key == "sign-out" for b in page("teacher-browser", path="app_pages/teacher.py").run().button)


def test_only_the_owner_sees_stop_on_a_running_run(digitdash_home):
    store = Store(digitdash_home)
    run_id = store.create(RunConfig(), name="their run", owner="someone-else", status="running")
    for owner, can_stop in (("me", False), ("someone-else", True)):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.session_state["owner"] = owner
        at.run()
        at.switch_page("app_pages/train.py").run()
        at.selectbox(key="watch-run").set_value(run_id).run()      # anybody may watch it
        assert not at.exception
        assert any(b.key == "stop" for b in at.button) == can_stop
        assert any("launched this run: only they" in c.value for c in at.caption) != can_stop


def test_a_new_browser_on_train_watches_no_one_elses_run(digitdash_home):
    store = Store(digitdash_home)
    store.create(RunConfig(), name="somebody's run", owner="s-aaaaaaaaaaaaaaaa", status="running")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["owner"] = "s-bbbbbbbbbbbbbbbb"
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert at.selectbox(key="watch-run").value == ""
    assert not any(s.value == "somebody\\'s run" for s in at.subheader)
    assert any(EN["train.press_train"] in i.value for i in at.info)


def test_the_teacher_page_shows_the_class_and_moves_stops_and_limits(digitdash_home):
    store = Store(digitdash_home)
    store.set_student_name("s-aaaaaaaaaaaaaaaa", "Ana")
    first = store.create(RunConfig(), name="ana's", owner="s-aaaaaaaaaaaaaaaa")
    second = store.create(RunConfig(), name="bo's", owner="s-bbbbbbbbbbbbbbbb")
    done = store.create(RunConfig(), name="best", owner="s-aaaaaaaaaaaaaaaa")
    store.finish(done, "done", "", {"test_accuracy": 0.97})
    at = page("teacher-browser", password="s3cret", path="app_pages/teacher.py").run()
    at.text_input(key="teacher-password").set_value("s3cret").run()
    at.button(key="unlock").click().run()
    assert not at.exception
    live = at.dataframe[0].value
    assert list(live[EN["teacher.col_owner"]]) == ["Ana", EN["common.unnamed_student"]]
    at.selectbox(key="teacher-run").set_value(second).run()
    at.button(key="teacher-front").click().run()
    assert store.queue() == [second, first]
    at.button(key="teacher-stop").click().run()
    assert store.get(second)["status"] == "stopped" and store.queue() == [first]
    board = at.dataframe[1].value
    assert list(board[EN["teacher.col_owner"]]) == ["Ana"] and list(board[EN["teacher.col_best"]]) == [0.97]
    at.number_input(key="limit-epochs").set_value(4)
    at.button[[b.label for b in at.button].index(EN["teacher.save"])].click().run()
    from digitdash.plan import limits
    assert limits.load().max_epochs == 4 and (digitdash_home / "limits.toml").exists()


def test_the_teacher_reviews_deletes_and_pauses_the_class_handwriting(runs, clock, mnist5k):
    from digitdash.plan import limits
    from digitdash.reading import handwriting
    store = runs[0]
    ana = handwriting.add(store, mnist5k.x_test[0, ..., 0], int(mnist5k.y_test[0]), "s-ana")
    ben = handwriting.add(store, mnist5k.x_test[1, ..., 0], int(mnist5k.y_test[1]), "s-ben")
    at = page("s-ana", path="app_pages/data.py").run()                 # a student sees only their own to delete
    assert not at.exception and any(EN["data.ours"] in h.value for h in at.subheader)
    assert [b.key for b in at.button if b.key and b.key.startswith("drop-mine-")] == [f"drop-mine-{ana}"]
    at.button(key=f"drop-mine-{ana}").click().run()
    assert [d["id"] for d in handwriting.listing(store)] == [ben]

    at = page("me", password="s3cret", path="app_pages/teacher.py").run()
    at.text_input(key="teacher-password").set_value("s3cret").run()
    at.button(key="unlock").click().run()
    assert any(EN["teacher.drawings"] in h.value for h in at.subheader)
    counts = [c.value for c in at.caption if "per digit" in c.value]       # read as digit: count, not a raw list
    assert counts and "[" not in counts[0] and "0: " in counts[0] and " · 9: " in counts[0]
    at.toggle(key="collect-drawings").set_value(False).run()
    assert limits.load().collect_drawings is False
    with pytest.raises(handwriting.HandwritingError):
        handwriting.add(store, mnist5k.x_test[2, ..., 0], 3, "s-ana")
    at.button(key=f"drop-drawing-{ben}").click().run()
    assert handwriting.listing(store) == [] and not at.exception


def test_a_classmates_name_is_shown_as_typed_not_as_markdown(digitdash_home):
    store = Store(digitdash_home)
    store.set_student_name("s-aaaaaaaaaaaaaaaa", "![m](http://127.0.0.1:9/a.png)")
    run_id = store.create(RunConfig(), name="**their** run", owner="s-aaaaaaaaaaaaaaaa")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["owner"] = "s-bbbbbbbbbbbbbbbb"
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="watch-run").set_value(run_id).run()
    said = [c.value for c in at.caption if "launched this run" in c.value]
    assert said and said[0].startswith("\\!\\[m\\]\\(h\u2060ttp\\:")           # every markup character escaped
    assert any(s.value == "\\*\\*their\\*\\* run" for s in at.subheader)


def test_deleting_a_run_never_arms_the_next_delete(digitdash_home):
    store = Store(digitdash_home)
    ids = [store.create(RunConfig(), name=f"run {n}", owner="me") for n in range(3)]
    for run_id in ids:
        store.finish(run_id, "done", "", {"test_accuracy": 0.9})
    p = page("me")
    p.at.query_params["runs"] = ids[1]
    at = p.run()
    at.checkbox(key=f"confirm-delete-{ids[1]}").check().run()
    at.button(key="delete").click().run()
    assert [r["id"] for r in store.runs()] == [ids[0], ids[2]]
    assert "runs" not in at.query_params                      # the link no longer names the deleted run
    at.query_params["runs"] = ids[2]                            # the next run chosen: its delete is not armed
    at.run()
    assert any(c.key == f"confirm-delete-{ids[2]}" and not c.value for c in at.checkbox)
    assert not any(b.key == "delete" for b in at.button)


def test_a_name_typed_while_the_first_page_drew_is_kept(digitdash_home):
    """A student types a name and presses Enter while the first page is still drawn: the box holds
    it, but its change callback is not heard (the box had none yet). The next run keeps the name in
    the store; it was lost, and empty after a reload. A name heard once is not saved again."""
    store = Store(digitdash_home)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["owner"] = "s-cccccccccccccccc"
    at.session_state["student-name"] = "Ana "           # in the box, no callback ran
    at.run()
    assert not at.exception and store.student_names() == {"s-cccccccccccccccc": "Ana"}
    assert at.text_input(key="student-name").value == "Ana"
    store.set_student_name("s-cccccccccccccccc", "Ana María")      # renamed elsewhere (another tab)
    at.run()
    assert store.student_names() == {"s-cccccccccccccccc": "Ana María"}
