"""A class at once: many Streamlit sessions over websockets against one real DigitDash server.

    python tools/load.py --sessions 30 --submitters 10 --json

Starts `streamlit run app.py` on a free port with its own DIGITDASH_HOME, then opens N sessions at
once. Each speaks Streamlit's own protocol (the protobuf BackMsg/ForwardMsg the browser sends):
it asks for a page, waits for the script to finish (that wait is the page's render time), and moves
on to the next page after a few seconds' reading (--think, 3 to 8 s by default), like students
clicking around. Submitters open Train
within the first minute and press its Train button (the widget trigger a browser sends), then keep
the page open so its live fragment reruns every second. The server's memory is sampled throughout.
It ends when every submitted run has finished, and prints what happened: renders, memory, and
whether every run was queued and run in order, none lost.

This lives outside digitdash/ because it imports Streamlit's protobufs; the engine never does.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app_pages.parts.navigation import PAGES as APP_PAGES  # noqa: E402
from tools import app_server  # noqa: E402  (after the path is set)
from tools.app_server import free_port  # noqa: E402

PAGES = [page.url_path for key, page in APP_PAGES.items() if key != "teacher"]   # every page a student opens


def start_server(home: Path, port: int) -> subprocess.Popen:
    try:
        return app_server.start(home, port, home / "server.log")
    except app_server.ServerDidNotStart as exc:
        raise SystemExit(str(exc)) from None


class Session:
    """One browser tab, as the server sees it."""

    def __init__(self, port: int, locale: str = "en-US"):
        self.port, self.locale = port, locale
        self.ws = None
        self.page_hash = ""
        self.buttons: dict[str, str] = {}     # user key -> element id
        self.fragment: str | None = None      # the live fragment asking to be rerun ...
        self.interval = 1.0                   # ... every this many seconds

    async def connect(self) -> None:
        import websockets
        self.ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/_stcore/stream",
                                           subprotocols=["streamlit"], max_size=None, open_timeout=60)

    async def run(self, page: str, trigger: str | None = None, fragment: str | None = None) -> float:
        """Ask for a (re)run and wait for script_finished; returns the seconds it took."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        msg = BackMsg()
        state = msg.rerun_script
        state.page_name = page
        state.page_script_hash = self.page_hash if (trigger or fragment) else ""
        state.context_info.locale = self.locale
        if trigger:
            state.widget_states.widgets.add(id=self.buttons[trigger], trigger_value=True)
        if fragment:
            state.fragment_id, state.is_auto_rerun = fragment, True
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while not await self._receive(120):
            pass
        return time.perf_counter() - start

    async def _receive(self, timeout: float) -> bool:
        """Read and note one message; True when it ends a script run."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        fm = ForwardMsg()
        fm.ParseFromString(await asyncio.wait_for(self.ws.recv(), timeout))
        kind = fm.WhichOneof("type")
        if kind == "new_session" and not fm.metadata.run.fragment_ids:
            self.fragment = None      # a whole script run: its fragments say again if they poll
        elif kind == "navigation":    # the page st.navigation chose: later reruns name it
            self.page_hash = fm.navigation.page_script_hash
        elif kind == "delta" and fm.delta.new_element.WhichOneof("type") == "button":
            element_id = fm.delta.new_element.button.id
            self.buttons[element_id.split("-", 2)[-1]] = element_id   # "$$ID-<hash>-<user key>"
        elif kind == "stop_auto_rerun":
            self.fragment = None
        elif kind == "auto_rerun":
            self.fragment, self.interval = fm.auto_rerun.fragment_id, fm.auto_rerun.interval or 1.0
        return kind == "script_finished"

    async def idle(self, seconds: float) -> None:
        """Wait as an open tab does, reading what the server sends meanwhile (a rerun it started)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                await self._receive(left)
            except asyncio.TimeoutError:
                return

    async def close(self) -> None:
        await self.ws.close()


def rss_mb(pid: int) -> float:
    import psutil
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return float("nan")


async def student(port: int, index: int, submit_at: float | None, until: dict, renders: list, submitted: list,
                  t0: float, think: tuple[float, float]) -> None:
    rng = random.Random(index)
    session = Session(port)
    await session.connect()
    pages = PAGES[index % len(PAGES):] + PAGES[:index % len(PAGES)]
    step = 0
    try:
        while not until["stop"]:
            now = time.monotonic() - t0
            if submit_at is not None and now >= submit_at and index not in submitted:
                await session.run("train")
                await session.run("train", trigger="train")
                submitted.append(index)
                page = "train"
            elif submit_at is not None and index in submitted:
                page = "train"           # a submitter keeps watching its run
                if session.fragment:      # as the browser does: rerun the fragment while it polls
                    renders.append(("fragment", time.time(),
                                    await session.run("train", fragment=session.fragment)))
                await session.idle(session.interval if session.fragment else 1.0)
                continue
            else:
                page = pages[step % len(pages)]
                step += 1
            renders.append((page or "home", time.time(), await session.run(page)))
            await asyncio.sleep(rng.uniform(*think))   # reading the page before the next click
    finally:
        await session.close()


async def load(port: int, server_pid: int, home: Path, sessions: int, submitters: int, window: float,
               timeout: float, think: tuple[float, float]) -> dict:
    from digitdash.runs.store import Store
    renders, submitted, memory = [], [], []
    until = {"stop": False}
    t0 = time.monotonic()
    rng = random.Random(0)
    times = sorted(rng.uniform(2, window) for _ in range(submitters))
    tasks = [asyncio.create_task(student(port, i, times[i] if i < submitters else None, until, renders,
                                         submitted, t0, think)) for i in range(sessions)]
    store = Store(home)
    while True:
        await asyncio.sleep(1.0)
        memory.append(rss_mb(server_pid))
        runs = store.runs()
        finished = [r for r in runs if r["status"] not in ("queued", "running")]
        elapsed = time.monotonic() - t0
        if (len(submitted) == submitters and len(finished) >= submitters) or elapsed > timeout:
            break
        if any(t.done() and not t.cancelled() and t.exception() for t in tasks):
            break
    until["stop"] = True
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    runs = sorted(store.runs(), key=lambda r: r["seq"])
    started = [r["started"] for r in runs]
    pages = [r for r in renders if r[0] != "fragment"]
    first, last = min(filter(None, started), default=0), max((r["finished"] or 0 for r in runs), default=0)
    busy = sorted(r[2] for r in pages if first <= r[1] <= last)
    return {
        "sessions": sessions, "submitters": submitters, "think_s": list(think), "submitted": len(submitted), "runs_stored": len(runs),
        "runs_done": sum(r["status"] == "done" for r in runs),
        "statuses": sorted({r["status"] for r in runs}),
        "ran_in_queue_order": all(a is not None and b is not None and a <= b for a, b in zip(started, started[1:])),
        "page_renders": len(pages), "fragment_reruns": len(renders) - len(pages),
        "render_s_median": round(statistics.median([r[2] for r in pages]), 3) if pages else None,
        "render_s_p90": round(sorted(r[2] for r in pages)[int(0.9 * (len(pages) - 1))], 3) if pages else None,
        "render_s_max": round(max(r[2] for r in pages), 3) if pages else None,
        "render_s_median_per_page": {p or "home": round(statistics.median([r[2] for r in pages if r[0] == (p or "home")]), 3)
                                     for p in PAGES if any(r[0] == (p or "home") for r in pages)},
        "server_rss_mb_max": round(max(memory), 1) if memory else None,
        "server_rss_mb_end": round(memory[-1], 1) if memory else None,
        "render_s_median_while_training": round(statistics.median(busy), 3) if busy else None,
        "render_s_p90_while_training": round(busy[int(0.9 * (len(busy) - 1))], 3) if busy else None,
        "renders_while_training": len(busy),
        "seconds": round(time.monotonic() - t0, 1), "errors": errors[:3],
    }


async def first_render(port: int) -> dict:
    """The first visits after the server starts: / and then /train, each a new session."""
    out = {}
    for page in ("", "train"):
        session = Session(port)
        start = time.perf_counter()
        await session.connect()
        await session.run(page)
        out["first_render_s" if not page else "first_render_train_s"] = round(time.perf_counter() - start, 3)
        await session.close()
    return out


def measure(sessions: int = 30, submitters: int = 10, window: float = 60.0, timeout: float = 900.0,
            think: tuple[float, float] = (3.0, 8.0)) -> dict:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        port = free_port()
        server = start_server(home, port)
        try:
            figures = asyncio.run(first_render(port))
            figures["server_rss_mb_idle"] = round(rss_mb(server.pid), 1)
            figures.update(asyncio.run(load(port, server.pid, home, sessions, submitters, window, timeout, think)))
            figures["server_rss_mb_max"] = max(figures["server_rss_mb_max"] or 0, figures["server_rss_mb_idle"])
        finally:
            app_server.stop(server)
            stop_workers(home)
    return figures


def stop_workers(home: Path) -> None:
    """The workers outlive the server (as they should in class); here they end with the test."""
    import signal
    for pid_file in home.glob("worker-*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        except (OSError, ValueError):
            pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--submitters", type=int, default=10)
    parser.add_argument("--window", type=float, default=60.0, help="seconds within which the submitters submit")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--think", default="3,8", help="seconds a student spends on a page: MIN,MAX (uniform)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.submitters <= args.sessions:
        parser.error("--submitters must be from 1 to --sessions")
    low, _, high = args.think.partition(",")
    figures = measure(args.sessions, args.submitters, args.window, args.timeout, (float(low), float(high or low)))
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0 if figures["runs_done"] == figures["submitted"] == args.submitters and not figures["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
