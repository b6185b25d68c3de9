"""Who may do what: a session renames and deletes only its own runs; the teacher password unlocks the rest."""
import pytest
from streamlit.testing.v1 import AppTest

from digitdash.config import RunConfig
from digitdash.i18n import catalogue
from digitdash.store import Store, StoreError

from conftest import ROOT

EN = catalogue("en")


@pytest.fixture
def runs(digitdash_home):
    store = Store(digitdash_home)
    mine = store.create(RunConfig(), name="mine", owner="me")
    theirs = store.create(RunConfig(), name="theirs", owner="someone-else")
    for run_id in (mine, theirs):
        store.finish(run_id, "done", "", {"test_accuracy": 0.9})
    return store, mine, theirs


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


def test_clearing_the_store_keeps_running_runs(runs):
    store, mine, theirs = runs
    running = store.create(RunConfig(), name="busy", owner="x", status="running")
    assert store.clear() == 2
    assert [r["id"] for r in store.runs()] == [running]


class Page:
    """The Compare page inside the whole app, as one browser session with the given owner id."""

    def __init__(self, owner: str, password: str | None = None):
        self.at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        self.at.session_state["owner"] = owner
        if password:
            self.at.secrets["teacher_password"] = password

    def run(self) -> AppTest:
        self.at.run()
        return self.at.switch_page("app_pages/compare.py").run()


def page(owner: str, password: str | None = None) -> Page:
    return Page(owner, password)


def select(at: AppTest, name: str) -> AppTest:
    at.text_input(key="filter").set_value(name).run()
    return at


def test_a_student_sees_rename_and_delete_only_on_their_own_run(runs):
    at = select(page("me").run(), "mine")
    assert any(b.key == "rename" for b in at.button)   # the only run shown is the one managed
    at = select(page("me").run(), "theirs")
    assert not any(b.key in ("rename", "delete") for b in at.button)
    assert any(EN["compare.not_yours"] in c.value for c in at.caption)
    assert any(EN["compare.teacher_unset"][:30] in c.value for c in at.caption)   # no password: no unlock box


def test_the_teacher_password_unlocks_deleting_any_run_and_clearing(runs):
    store, mine, theirs = runs
    at = page("me", password="s3cret").run()
    at.text_input(key="teacher-password").set_value("wrong").run()
    at.button(key="unlock").click().run()
    assert EN["compare.wrong_password"] in [e.value for e in at.error]
    at.text_input(key="teacher-password").set_value("s3cret").run()
    at.button(key="unlock").click().run()
    assert at.session_state["teacher"] is True
    at = select(at, "theirs")
    at.checkbox(key="confirm-delete").check().run()
    at.button(key="delete").click().run()
    assert [r["name"] for r in store.runs()] == ["mine"]
    at.checkbox(key="confirm-clear").check().run()
    at.button(key="clear-store").click().run()
    assert store.runs() == [] and not at.exception


def test_only_the_owner_sees_stop_on_a_running_run(digitdash_home):
    store = Store(digitdash_home)
    store.create(RunConfig(), name="their run", owner="someone-else", status="running")
    for owner, can_stop in (("me", False), ("someone-else", True)):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.session_state["owner"] = owner
        at.run()
        at.switch_page("app_pages/train.py").run()
        assert not at.exception
        assert any(b.key == "stop" for b in at.button) == can_stop
        assert any(EN["train.not_yours"] in c.value for c in at.caption) != can_stop
