"""Start a real DigitDash server (`streamlit run app.py`) on a free local port with its own run store:
the load tool and the browser tests both start theirs here."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ServerDidNotStart(RuntimeError):
    """The server exited or did not answer its health check in time; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(home: Path, port: int, log_path: Path, env: dict | None = None, timeout: float = 90,
          args: list[str] | None = None) -> subprocess.Popen:
    """The server process, once it answers /_stcore/health. Its output goes to log_path (appended);
    `args` are more options for `streamlit run` (e.g. --secrets.files PATH)."""
    env = {**os.environ, "DIGITDASH_HOME": str(home), **(env or {})}
    with open(log_path, "a") as log:      # the child keeps its own copy of the file
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--server.headless", "true", *(args or [])],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise ServerDidNotStart("the app server did not start:\n" + Path(log_path).read_text()[-2000:])
            time.sleep(0.2)


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """End the server: asked to stop, then killed if it has not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
