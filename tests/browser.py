"""A real DigitDash server and Debian's chromium driven by Playwright (no browser download)."""
import os
import shutil

import pytest

from tools.app_server import ServerDidNotStart, free_port
from tools.app_server import start as start_server
from tools.app_server import stop as stop_server

from conftest import seed_cache

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Server:
    """A real app server on its own port and run store; restart() keeps both, as a server machine's
    restart would. One worker, so that a second run waits in the queue as the tests expect. Given
    `cached` (the mnist5k_cached fixture), its store's cache holds mnist-5k from the start, as a
    server's does after its first page: its workers and the commands a test runs there do not each
    decode it again."""

    def __init__(self, tmp_path, env: dict | None = None, cached=None):
        self.port, self.tmp = free_port(), tmp_path
        self.home = tmp_path / "server-home"
        self.env = {"DIGITDASH_WORKERS": "1", **(env or {})}
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        if cached is not None:
            seed_cache(self.home, cached)

    def start(self) -> "Server":
        said = ""
        for _ in range(3):
            try:
                self.proc = start_server(self.home, self.port, self.tmp / "server.log", env=self.env, timeout=60)
                return self
            except ServerDidNotStart as exc:
                said = str(exc)
                if self.proc is not None or not _port_taken(exc):
                    break
                # another test's process took the port between free_port() and the server binding it:
                # a first start only (a restart keeps its address), on a new port
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
        pytest.fail(said)

    def stop(self) -> None:
        stop_server(self.proc, timeout=20)

    def restart(self) -> None:
        self.stop()
        self.start()


def _port_taken(exc: ServerDidNotStart) -> bool:
    return "is not available" in str(exc)          # Streamlit's line, in the log the message ends with


@pytest.fixture
def app_server(tmp_path, mnist5k_cached):
    srv = Server(tmp_path, cached=mnist5k_cached)
    srv.home.mkdir(parents=True, exist_ok=True)   # the long runs these tests stop need more than the class's default limits
    (srv.home / "limits.toml").write_text("max_epochs = 1000\nmax_run_seconds = 100000\n")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server(app_server):
    """The running server's base URL."""
    yield app_server.url


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: scripts/test.sh installs it")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1600})
        pg.set_default_timeout(60_000)
        yield pg
        browser.close()


def status(pg) -> str:
    """The Train page's status line."""
    el = pg.query_selector(".st-key-run-status")
    return el.inner_text() if el else ""


def set_number(pg, key: str, value) -> None:
    """Type into the text or number box with this widget key, and send it."""
    box = pg.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
