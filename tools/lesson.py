"""A lesson's end: a real server on a store as thirty students leave it, one student's tour of every
page, then a class of sessions clicking through the pages.

    python tools/lesson.py --runs 300,1000 --archived 5000 --json

For each size in RUNS, builds a run store of that many finished runs owned by 30 students and 200
labelled drawings, quickly: a few real runs are trained once on mnist-5k (MLPs, a CNN, a random
forest), then copied under new ids with their epochs, batch losses, answers to the drawings and
model files (hard links), as a class would leave them (--archived: the first size again, with that
many more runs of earlier lessons put away in archives). Then starts `streamlit run app.py` on it and measures, through Streamlit's own
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
import shutil
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


def trained_base(home: Path, students: int = STUDENTS, drawings: int = DRAWINGS, seed: int = 0) -> dict:
    """A store in `home` with the class (`students` names), `drawings` labelled drawings, and a few
    real runs trained on mnist-5k (BASE_RUNS), answering the drawings as a worker does at a run's end."""
    from digitdash.digits import datasets
    from digitdash.reading import handwriting
    from digitdash.runs.store import Store
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
    handwriting.scores(store, store.runs())     # (a worker of this version answers them itself; an older one did not)
    return {"owners": owners, "trained_s": round(time.perf_counter() - t0, 1)}


def copy_store(source: Path, home: Path) -> None:
    """The home in `source` copied to `home`, as a server that has run before has it: the run folders
    and the decoded datasets' cache hard-linked (a copy costs no disk), the rest (the database) copied."""
    home.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name in ("runs", "cache"):          # read-only once written: linked
            shutil.copytree(path, home / path.name, copy_function=os.link, dirs_exist_ok=True)
        elif path.is_dir():                          # (workers' locks and the like: copies of their own)
            shutil.copytree(path, home / path.name, dirs_exist_ok=True)
        else:
            shutil.copy2(path, home / path.name)


def grow(home: Path, runs: int, owners: list[str], archived: int = 0, per_archive: int = 300) -> dict:
    """Copies of the store's finished runs under new ids, owned in turn by `owners`, as a class leaves
    them, until it holds `runs` runs in the class's views, plus `archived` more put away in archives
    of `per_archive` runs (earlier lessons). Returns how long it took and what is in it."""
    from digitdash.runs.store import Store
    t0 = time.perf_counter()
    store = Store(home)
    base = [r for r in store.runs() if r["status"] == "done"]
    db = sqlite3.connect(home / "digitdash.sqlite", timeout=60)
    db.row_factory = sqlite3.Row
    columns = [c[1] for c in db.execute("PRAGMA table_info(runs)")]
    archives = "archive" in columns
    copies = []
    with db:
        seq = db.execute("SELECT MAX(seq) FROM runs").fetchone()[0]
        for n in range(archived + runs - len(base)):
            archive = None
            if n < archived:      # the earlier lessons first, as the year went
                if n % per_archive == 0:
                    archive = db.execute("INSERT INTO archives (name, created) VALUES (?, ?)",
                                         (f"Lesson {n // per_archive + 1}", time.time())).lastrowid
                else:
                    archive = db.execute("SELECT MAX(id) FROM archives").fetchone()[0]
            source = base[n % len(base)]
            row = dict(db.execute("SELECT * FROM runs WHERE id = ?", (source["id"],)).fetchone())
            seq += 1
            new_id = f"{time.strftime('%m%d-%H%M%S')}-{secrets.token_hex(4)}"
            row.update(id=new_id, seq=seq, owner=owners[n % len(owners)], name=f"{source['name'].split(' #')[0]} #{seq}",
                       created=row["created"] + n, started=(row["started"] or 0) + n, finished=(row["finished"] or 0) + n)
            if archives:
                row["archive"] = archive
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
    return {"runs": len(store.runs()), "archived": archived if archives else 0, "students": len(owners),
            "built_s": round(time.perf_counter() - t0, 1)}


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


def measure(home: Path, sessions: int = 30, seconds: float = 120.0, think=(3.0, 8.0)) -> dict:
    """The tour and the class's clicking on a server over the store in `home`."""
    figures = {}
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


def lessons(sizes: list[int], archived: int = 0, sessions: int = 30, seconds: float = 120.0) -> dict:
    """One measurement per store size in `sizes` (runs in the class's views), and with `archived`
    runs put away besides the first size; the few real runs are trained once for them all."""
    out = {}
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        template = Path(tmp) / "base"
        base = trained_base(template)
        plans = [(n, 0) for n in sizes] + ([(sizes[0], archived)] if archived else [])
        for runs, put_away in plans:
            home = Path(tmp) / f"lesson-{runs}-{put_away}"
            copy_store(template, home)
            figures = {"store": {**grow(home, runs, base["owners"], put_away), "trained_s": base["trained_s"]}}
            figures.update(measure(home, sessions, seconds))
            out[f"{runs}" + (f"+{put_away}archived" if put_away else "")] = figures
            shutil.rmtree(home, ignore_errors=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="300", help="store sizes, comma-separated (runs in the class's views)")
    parser.add_argument("--archived", type=int, default=0, help="also measure the first size with this many archived runs")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = lessons([int(n) for n in args.runs.split(",")], args.archived, args.sessions, args.seconds)
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0 if not any(f["class"]["errors"] for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
