"""One student's tour of every page on an idle server with ten stored runs: how long each page takes
to render, and how much memory the server holds afterwards.

    python tools/tour.py --json

Makes a run store of ten finished runs (eight MLPs and two CNNs on mnist-5k, trained here through
`python -m digitdash experiment`), starts `streamlit run app.py` on it, and opens one session that
visits Home, Train, Compare, Draw, Inside and Data twice over, reading each for READ_SECONDS (the
first visit of each page is the cold one: nothing of it cached yet). A page's render time is from asking for it to the end of its script,
as tools/load.py measures it. `page_render_s` holds the first visits, `page_render_again_s` the
second, `tour_rss_mb` the server's resident memory after the tour.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import app_server  # noqa: E402  (after the path is set)
from tools.app_server import free_port  # noqa: E402
from tools.load import Session, rss_mb, start_server, stop_workers  # noqa: E402

PAGES = ["", "train", "compare", "draw", "inside", "data"]
READ_SECONDS = 3.0
FAMILIES = [("--vary", "layers=16,32,64,128,256,512,64-32,128-64"),
            ("--preset", "cnn-basic", "--vary", "conv_filters=8-16,16-32")]


def stored_runs(home: Path) -> int:
    """Ten finished runs in `home` (eight MLPs, two CNNs), each one epoch on mnist-5k."""
    env = {**os.environ, "DIGITDASH_HOME": str(home)}
    for family in FAMILIES:
        subprocess.run([sys.executable, "-m", "digitdash", "experiment", *family, "--set", "epochs=1", "--json"],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=900)
    out = subprocess.run([sys.executable, "-m", "digitdash", "runs", "--json"], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True)
    return sum(r["status"] == "done" for r in json.loads(out.stdout))


async def tour(port: int, server_pid: int) -> dict:
    session = Session(port)
    await session.connect()
    first, again = {}, {}
    try:
        for visits in (first, again):
            for page in PAGES:
                visits[page or "home"] = round(await session.run(page), 3)
                await session.idle(READ_SECONDS)     # a student reads the page before the next click
    finally:
        await session.close()
    return {"page_render_s": first, "page_render_again_s": again, "tour_rss_mb": round(rss_mb(server_pid), 1)}


def measure() -> dict:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        runs = stored_runs(home)
        port = free_port()
        server = start_server(home, port)
        try:
            time.sleep(2)                        # the server settles, as an idle one would be
            figures = {"stored_runs": runs, "server_rss_mb_start": round(rss_mb(server.pid), 1)}
            figures.update(asyncio.run(tour(port, server.pid)))
        finally:
            app_server.stop(server)
            stop_workers(home)
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure()
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
