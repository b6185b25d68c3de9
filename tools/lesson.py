"""A lesson's end: a real server on a store as thirty students leave it, one student's tour of every
page, then a class of sessions clicking through the pages.

    python tools/lesson.py --runs 300 --json

Builds a run store of RUNS finished runs owned by 30 students and 200 labelled drawings, quickly: a
few real runs are trained once on mnist-5k (MLPs, a CNN, a random forest), then copied under new ids
with their epochs, batch losses, answers to the drawings and model files (hard links), as a class
would leave them. Then starts `streamlit run app.py` on it and measures, through Streamlit's own
websocket protocol (tools/load.py's Session): each page's first and second render for one student
(3 s of reading between clicks), then SESSIONS students clicking through the pages for SECONDS
(3-8 s on each page), and the server's memory. Prints lesson_* figures (bench --json gathers them).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import app_server  # noqa: E402
from tools.load import rss_mb, start_server, stop_workers, student  # noqa: E402
from tools.tour import tour  # noqa: E402  (one student's two visits of every page)

STUDENTS = 30
DRAWINGS = 200
BASE_RUNS = [("--preset", "mlp-512", "--set", "epochs=1"), ("--set", "layers=64", "--set", "epochs=2"),
             ("--preset", "mlp-128-64-dropout", "--set", "epochs=1"), ("--preset", "cnn-basic", "--set", "epochs=1"),
             ("--preset", "random-forest",)]


def _cli(home: Path, *args: str) -> str:
    env = {**os.environ, "DIGITDASH_HOME": str(home)}
    out = subprocess.run([sys.executable, "-m", "digitdash", *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"digitdash {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def build(home: Path, runs: int, students: int = STUDENTS, drawings: int = DRAWINGS, seed: int = 0) -> dict:
    """The store at a lesson's end in `home`: `runs` finished runs of `students` students, `drawings`
    labelled drawings. Returns how long building took and what is in it."""
    from digitdash import datasets, handwriting
    from digitdash.store import Store
    t0 = time.perf_counter()
    store = Store(home)
    rng = random.Random(seed)
    owners = [f"s-{secrets.token_hex(8)}" for _ in range(students)]
    for n, owner in enumerate(owners):
        store.set_student_name(owner, f"Student {n + 1:02d}")
    data = datasets.load("mnist-5k")
    for i in range(drawings):       # the class's handwriting, before the runs that read it
        handwriting.add(store, data.x_test[i, ..., 0], int(data.y_test[i]), rng.choice(owners), student=False)
    for args in BASE_RUNS:
        _cli(home, "train", *args, "--owner", owners[0], "--json")
    base = [r for r in store.runs() if r["status"] == "done"]
    trained = time.perf_counter() - t0
    db = sqlite3.connect(home / "digitdash.sqlite", timeout=60)
    db.row_factory = sqlite3.Row
    columns = [c[1] for c in db.execute("PRAGMA table_info(runs)")]
    copies = []
    with db:
        seq = db.execute("SELECT MAX(seq) FROM runs").fetchone()[0]
        for n in range(runs - len(base)):
            source = base[n % len(base)]
            row = dict(db.execute("SELECT * FROM runs WHERE id = ?", (source["id"],)).fetchone())
            seq += 1
            new_id = f"{time.strftime('%m%d-%H%M%S')}-{secrets.token_hex(3)}"
            row.update(id=new_id, seq=seq, owner=owners[n % students], name=f"{source['name'].split(' #')[0]} #{seq}",
                       created=row["created"] + n, started=(row["started"] or 0) + n, finished=(row["finished"] or 0) + n)
            db.execute(f"INSERT INTO runs ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
                       [row[c] for c in columns])
            for table in ("epochs", "batches", "answers"):
                cols = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
                rest = [c for c in cols if c != "run_id"]
                db.execute(f"INSERT INTO {table} (run_id, {','.join(rest)}) SELECT ?, {','.join(rest)} FROM {table}"
                           " WHERE run_id = ?", (new_id, source["id"]))
            copies.append((source["id"], new_id))
    db.close()
    for source_id, new_id in copies:      # the model and arrays, hard-linked: a copy costs no disk
        src, dst = store.run_dir(source_id), store.run_dir(new_id)
        dst.mkdir(parents=True, exist_ok=True)
        for path in src.iterdir():
            if path.is_file():
                os.link(path, dst / path.name)
    return {"runs": len(store.runs()), "students": students, "drawings": drawings,
            "trained_s": round(trained, 1), "built_s": round(time.perf_counter() - t0, 1)}


async def clicking(port: int, server_pid: int, sessions: int, seconds: float, think: tuple[float, float]) -> dict:
    renders, memory = [], []
    until = {"stop": False}
    t0 = time.monotonic()
    tasks = [asyncio.create_task(student(port, i, None, until, renders, [], t0, think)) for i in range(sessions)]
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(1.0)
        memory.append(rss_mb(server_pid))
    until["stop"] = True
    results = await asyncio.gather(*tasks, return_exceptions=True)
    times = sorted(r[2] for r in renders)
    per_page = {}
    for page, _, took in renders:
        per_page.setdefault(page, []).append(took)
    return {"sessions": sessions, "seconds": seconds, "page_renders": len(times),
            "render_s_median": round(statistics.median(times), 3) if times else None,
            "render_s_p90": round(times[int(0.9 * (len(times) - 1))], 3) if times else None,
            "render_s_max": round(times[-1], 3) if times else None,
            "render_s_median_per_page": {p: round(statistics.median(v), 3) for p, v in per_page.items()},
            "render_s_max_per_page": {p: round(max(v), 3) for p, v in per_page.items()},
            "rss_mb_max": round(max(memory), 1) if memory else None,
            "errors": [repr(r) for r in results if isinstance(r, BaseException)][:3]}


def measure(runs: int = 300, sessions: int = 30, seconds: float = 120.0, think=(3.0, 8.0)) -> dict:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        figures = {"store": build(home, runs)}
        port = app_server.free_port()
        server = start_server(home, port)
        try:
            time.sleep(2)
            figures["rss_mb_idle"] = round(rss_mb(server.pid), 1)
            figures.update(asyncio.run(tour(port, server.pid)))
            figures["class"] = asyncio.run(clicking(port, server.pid, sessions, seconds, think))
            figures["rss_mb_end"] = round(rss_mb(server.pid), 1)
        finally:
            app_server.stop(server)
            stop_workers(home)
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure(args.runs, args.sessions, args.seconds)
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0 if not figures["class"]["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
