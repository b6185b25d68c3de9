"""The Train page in a real browser: pick a preset, train 20 epochs live, stop a second run."""
import json

import pytest

from browser import app_server, page, server, set_number, status  # noqa: F401  (fixtures)
from conftest import wait_for

pytestmark = pytest.mark.browser


def points(pg, key: str) -> int:
    """How many epochs the chart with this widget key currently plots (its first trace)."""
    return pg.evaluate(f"""() => {{
        const el = document.querySelector('.st-key-{key} .js-plotly-plot');
        return el && el.data && el.data.length ? el.data[0].x.length : -1; }}""")


def headings(pg) -> list[str]:
    """The page's subheadings (h3), as shown."""
    return [text.strip() for text in pg.locator("h3").all_inner_texts()]


def train_live(pg, epochs: int = 20) -> None:
    """Press Train and watch the run to its end: the curves were drawn while it went on."""
    pg.wait_for_timeout(500)
    pg.locator(".st-key-train button:visible").click()
    seen = set()
    def finished():
        seen.add(points(pg, "live-curves"))
        return "done" in status(pg)
    wait_for(finished)
    try:
        wait_for(lambda: points(pg, "live-curves") == epochs and points(pg, "gap-bars") == epochs, timeout=30)
    except AssertionError:
        raise AssertionError(f"the finished run's charts show {points(pg, 'live-curves')} and "
                             f"{points(pg, 'gap-bars')} epochs of {epochs}; status {status(pg)!r}; "
                             f"seen while training {sorted(seen)}") from None
    assert any(1 <= n < epochs for n in seen), seen  # the curves were drawn while the run went on


def test_pick_preset_train_live_and_stop(server, page):  # noqa: F811
    pg = page
    pg.goto(server + "/train")
    pg.wait_for_selector(".st-key-train button")
    pg.locator(".st-key-preset").click()
    pg.get_by_role("option", name="mlp-256-128", exact=True).click()
    wait_for(lambda: pg.locator(".st-key-cfg-layers input").input_value() == "256-128")
    set_number(pg, "cfg-epochs", 20)       # long enough (about 5 s) for the 1 s live updates to catch it midway
    wait_for(lambda: pg.locator(".st-key-cfg-epochs input").input_value() == "20")
    # The address bar holds the form: opened in another browser, the link fills the same form
    href = lambda: pg.evaluate("location.href")  # noqa: E731  (Playwright's page.url misses replaceState)
    link = wait_for(lambda: "layers=256-128" in href() and "epochs=20" in href() and href())
    other = pg.context.browser.new_context().new_page()
    other.goto(link)
    wait_for(lambda: other.locator(".st-key-cfg-layers input").input_value() == "256-128"   # once drawn, both
             and other.locator(".st-key-cfg-epochs input").input_value() == "20", timeout=30)
    other.context.close()
    train_live(pg)
    # the fragment redraws every second: read the page once it has drawn the finished run
    wait_for(lambda: "Test accuracy" in pg.inner_text("body") and "mlp 256-128" in pg.inner_text("body"),
             timeout=30)
    # The finished run as code: a notebook with the network spelled out
    with pg.expect_download() as dl:
        pg.locator(".st-key-export-notebook button:visible").click()
    book = json.loads(open(dl.value.path()).read())
    assert dl.value.suggested_filename.endswith(".ipynb") and book["nbformat"] == 4
    code = "".join("".join(c["source"]) for c in book["cells"] if c["cell_type"] == "code")
    assert "layers.Dense(256, activation=" in code and "layers.Dense(128, activation=" in code and "EPOCHS = 20" in code

    # A second, long run: stop it midway.
    set_number(pg, "cfg-epochs", 300)
    wait_for(lambda: pg.locator(".st-key-cfg-epochs input").input_value() == "300")
    pg.wait_for_timeout(500)
    pg.locator(".st-key-train button:visible").click()
    wait_for(lambda: "running" in status(pg) and points(pg, "live-curves") >= 1)
    # Knobs that move while it learns: pause, a new learning rate, resume
    pg.locator(".st-key-pause button:visible").click()
    wait_for(lambda: "Paused at epoch" in pg.inner_text("body"), timeout=30)
    held = points(pg, "live-curves")
    pg.wait_for_timeout(2500)
    assert points(pg, "live-curves") <= held + 1                     # held (the epoch in hand may end)
    set_number(pg, "new-lr-" + pg.evaluate("new URL(location.href).searchParams.get('run')"), 0.01)   # 0.05 can diverge Adam
    pg.locator(".st-key-apply-lr button:visible").click()
    pg.locator(".st-key-resume button:visible").click()
    wait_for(lambda: "Paused at epoch" not in pg.inner_text("body") and points(pg, "live-curves") > held + 1)
    marks = lambda: pg.evaluate("""() => [...document.querySelectorAll('.st-key-live-curves .annotation-text')]
                                        .map(a => a.textContent)""")  # noqa: E731
    wait_for(lambda: all(m in " · ".join(marks()) for m in ("paused", "resumed", "lr 0.01")), timeout=30)
    pg.locator(".st-key-stop button:visible").click()
    wait_for(lambda: "stopped" in status(pg), timeout=60)
    assert "weights learnt so far are kept" in status(pg)
    assert 1 <= points(pg, "live-curves") < 300


def test_two_sessions_each_see_their_own_run_and_the_queue(server, page):  # noqa: F811
    a = page
    b = a.context.browser.new_context().new_page()   # a second, separate browser session
    for pg, layers in ((a, "300"), (b, "20")):
        pg.goto(server + "/train")
        pg.wait_for_selector(".st-key-train button")
        pg.locator(".st-key-cfg-layers input").fill(layers)
        pg.locator(".st-key-cfg-layers input").press("Enter")
        set_number(pg, "cfg-epochs", 300)
        wait_for(lambda: pg.locator(".st-key-cfg-epochs input").input_value() == "300")
        pg.wait_for_timeout(500)
    a.locator(".st-key-train button:visible").click()
    wait_for(lambda: "running" in status(a))
    b.locator(".st-key-train button:visible").click()
    wait_for(lambda: "queued, position 1 in the queue" in status(b), timeout=60)
    # each watches its own run: the watched run's name heads the live part (redrawn every second or two)
    watches = lambda pg, name: any(h.split(" #")[0] == name for h in headings(pg))   # noqa: E731  ("mlp 20 #2")
    try:
        wait_for(lambda: watches(a, "mlp 300") and watches(b, "mlp 20"), timeout=60)
    except AssertionError:
        raise AssertionError(f"a shows {headings(a)} ({status(a)!r}), b shows {headings(b)} ({status(b)!r})") from None
    a.locator(".st-key-stop button:visible").click()          # a's stop lets b's run start
    wait_for(lambda: "stopped" in status(a), timeout=60)
    wait_for(lambda: "running" in status(b), timeout=60)
    b.locator(".st-key-stop button:visible").click()
    wait_for(lambda: "stopped" in status(b), timeout=60)


@pytest.fixture
def ray_server(tmp_path, mnist5k_cached):
    """The app with its runs on a local Ray (DIGITDASH_RUNNER=ray)."""
    from browser import Server
    srv = Server(tmp_path, env={"DIGITDASH_RUNNER": "ray", "DIGITDASH_RAY_LOCAL_CPUS": "2"}, cached=mnist5k_cached)
    srv.start()
    yield srv
    srv.stop()          # the dispatcher (worker-ray.pid) with it


def test_runs_on_ray_look_the_same_in_the_browser(ray_server, page):  # noqa: F811
    pg = page
    pg.goto(ray_server.url + "/train")
    pg.wait_for_selector(".st-key-train button")
    set_number(pg, "cfg-layers", "256-128")
    set_number(pg, "cfg-epochs", 20)
    wait_for(lambda: pg.locator(".st-key-cfg-epochs input").input_value() == "20")
    train_live(pg)                                  # live from a Ray task, through the store
    from digitdash.runs.store import Store
    (run,) = Store(ray_server.home).runs()
    assert run["info"]["runner"] == "ray" and run["status"] == "done"
