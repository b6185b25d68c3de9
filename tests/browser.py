"""A real DigitDash server and Debian's chromium driven by Playwright (no browser download)."""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools.app_server import ServerDidNotStart, free_port
from tools.app_server import start as start_server
from tools.app_server import stop as stop_server
from tools.load import stop_workers

from conftest import ROOT, seed_cache

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
        """The server, and the workers it started (in class they outlive it; here a failed test's
        long runs would otherwise go on training and slow every test after it)."""
        stop_server(self.proc, timeout=20)
        stop_workers(self.home)

    def restart(self) -> None:
        """The server alone stops and starts again: its workers train on."""
        stop_server(self.proc, timeout=20)
        self.start()


def _port_taken(exc: ServerDidNotStart) -> bool:
    return "is not available" in str(exc)          # Streamlit's line, in the log the message ends with


# Stores the browser tests start from, each a few runs trained by the command line. All are trained
# once per test session, in one process (TensorFlow loads once, not once a test), then copied.
STORES = {
    "cnn for drawing": [["train", "--preset", "cnn-basic", "--set", "epochs=4", "--name", "cnn for drawing"]],
    "tiny mlp": [["train", "--set", "layers=16", "--set", "epochs=1"]],
    "mlp to look into": [["train", "--preset", "mlp-512", "--set", "epochs=2", "--name", "mlp to look into"]],
    "mlp 32": [["train", "--set", "layers=32", "--set", "epochs=1"]],
    "reader": [["train", "--preset", "cnn-basic", "--set", "epochs=3", "--name", "reader"]],
    "two mlps and a family": [["train", "--set", "layers=32", "--set", "epochs=2", "--name", "mlp 32 run"],
                              ["train", "--set", "layers=128", "--set", "epochs=2", "--name", "mlp 128 run"],
                              ["experiment", "--vary", "layers=16,64", "--set", "epochs=1"]],
    "first and second mlp": [["train", "--set", "layers=32", "--set", "epochs=1", "--name", "first mlp"],
                             ["train", "--set", "layers=16", "--set", "epochs=1", "--name", "second mlp"]],
}
_TRAIN_ALL = """
import json, os, sys
from digitdash import cli
for home, commands in json.loads(sys.argv[1]):
    os.environ["DIGITDASH_HOME"] = home
    for argv in commands:
        if cli.main(argv) != 0:
            sys.exit(f"{argv} failed in {home}")
"""


@pytest.fixture(scope="session")
def trained_stores(tmp_path_factory, mnist5k_cached):
    """The folder holding every store of STORES, trained once for the whole session: the first test
    process to ask trains them (the others wait on the lock), later ones find them made."""
    root = tmp_path_factory.getbasetemp().parent / "trained-stores"    # shared by the xdist workers
    root.mkdir(exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "made").exists():
            homes = [(str(seed_cache(root / name, mnist5k_cached)), commands) for name, commands in STORES.items()]
            done = subprocess.run([sys.executable, "-c", _TRAIN_ALL, json.dumps(homes)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stderr[-3000:]
            (root / "made").touch()
    return root


def start_app(tmp_path, cached, store: str | None = None, stores: Path | None = None) -> Server:
    """A started server whose store is a copy of STORES[store] (or empty), with limits loose enough
    for the long runs the tests stop."""
    srv = Server(tmp_path, cached=cached)
    if store is not None:      # its cache is the server's own already (a link to the session's mnist-5k)
        shutil.copytree(stores / store, srv.home, ignore=shutil.ignore_patterns("cache", ".lock"), dirs_exist_ok=True)
    srv.home.mkdir(parents=True, exist_ok=True)
    (srv.home / "limits.toml").write_text("max_epochs = 1000\nmax_run_seconds = 100000\n")
    return srv.start()


@pytest.fixture
def app_server(tmp_path, mnist5k_cached):
    srv = start_app(tmp_path, mnist5k_cached)
    yield srv
    srv.stop()


@pytest.fixture
def app_with(tmp_path, mnist5k_cached, trained_stores):
    """app_with(name): a server started on a copy of the trained store STORES[name]; its URL."""
    started = []

    def start(name: str) -> str:
        started.append(start_app(tmp_path, mnist5k_cached, name, trained_stores))
        return started[-1].url
    yield start
    for srv in started:
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


def again_until(act, seen, timeout: float = 90, tries: int = 3):
    """Do `act`, then poll `seen` until it is truthy; where a rerun of the page swallowed the act (a
    file set on an uploader Streamlit then drew anew, a hover on an icon it replaced while the server
    was slow), do it again, up to `tries` times within `timeout`. What `seen` returned, or fail."""
    deadline = time.monotonic() + timeout
    for attempt in range(tries):
        act()
        end = time.monotonic() + (deadline - time.monotonic()) / (tries - attempt)
        while time.monotonic() < end:
            value = seen()
            if value:
                return value
            time.sleep(0.2)
    raise AssertionError(f"not seen in {timeout} s after {tries} tries")


def status(pg) -> str:
    """The Train page's status line."""
    el = pg.query_selector(".st-key-run-status")
    return el.inner_text() if el else ""


def set_number(pg, key: str, value) -> None:
    """Type into the text or number box with this widget key, and send it."""
    box = pg.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
