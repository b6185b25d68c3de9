"""What students type is shown to classmates as typed, in a real browser: a run or display name
written as Markdown or HTML fetches nothing, links nowhere, and reads exactly as it was typed."""
import http.server
import threading

import pytest

from digitdash.plan.config import RunConfig
from digitdash.runs.store import Store

from browser import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: F401
from conftest import wait_for

pytestmark = pytest.mark.browser


class Counter(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):   # noqa: N802
        Counter.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def confusion_results():
    cm = [[10 if i == j else 0 for j in range(10)] for i in range(10)]
    report = [{"class": str(d), "precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 10} for d in range(10)]
    return {"test_accuracy": 0.9, "test_loss": 0.3, "confusion": {"test": cm, "train": cm, "val": cm},
            "report": report}


def test_names_written_as_markup_are_shown_as_typed_and_fetch_nothing(tmp_path, mnist5k_cached):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    there = f"http://127.0.0.1:{httpd.server_address[1]}"
    names = [f"![x]({there}/run-a.png)", f"<img src='{there}/run-b.png'> {there}/bare-link",
             f"**bold** [go]({there}/c) www.example.org a@b.org"]
    srv = Server(tmp_path, cached=mnist5k_cached)
    store = Store(srv.home)
    store.set_student_name("s-aaaaaaaaaaaaaaaa", f"![m]({there}/s.png)")
    for name in names:
        run_id = store.create(RunConfig(), name=name, owner="s-aaaaaaaaaaaaaaaa")
        for epoch in (1, 2):
            store.add_epoch(run_id, {"epoch": epoch, "loss": 0.5 / epoch, "accuracy": 0.8, "val_loss": 0.6,
                                     "val_accuracy": 0.8, "seconds": 1.0})
        store.finish(run_id, "done", "", confusion_results())
    srv.start()
    try:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1400, "height": 1600})
            pg.set_default_timeout(60_000)
            pg.goto(srv.url + "/compare")
            wait_for(lambda: pg.locator(".st-key-confusion .js-plotly-plot").count() >= 1, timeout=90)
            pg.wait_for_timeout(1500)
            shown = pg.locator("[data-testid='stMain']").inner_text().replace("\u2060", "")   # text.WORD_JOINER
            links = pg.evaluate("""() => [...document.querySelectorAll('a[href]')].map(a => a.href + ' in ' +
                (a.closest('[data-testid]') || a).getAttribute('data-testid') + ' ' + a.parentElement.outerHTML.slice(0, 300))""")
            images = pg.evaluate("() => [...document.querySelectorAll('img')].map(i => i.src)")
            browser.close()
    finally:
        srv.stop()
        httpd.shutdown()
    assert Counter.hits == [], Counter.hits                      # nothing a name names was fetched
    assert not [u for u in links + images if there in u]         # nor made a link or a picture
    for name in names:                                           # tab labels and chart titles read as typed
        assert name.split(" ")[0] in shown, (name, shown[:3000])
