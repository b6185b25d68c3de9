"""The run store: one SQLite database (WAL) plus a folder of artifacts per run.

Every call opens its own short-lived connection, so any thread or process may read and write; a
page's request may hold one connection for all its calls (`with store.request():`). Reading writes
nothing: with the disk full (or the folder read-only) every stored run can still be
read, and `unwritable()` says why new work cannot be saved.

A run in hand has a worker: the process that claimed it (worker_pid) beats every HEARTBEAT_SECONDS
(runs.heartbeat, and the mtime of the run's life file, which needs no disk space). The reads the
pages poll (get, runs, queue) look, at most every LOOK_SECONDS per process, for running runs whose
worker is gone (its process ended) or silent (no beat for SILENT_SECONDS), and end them.
"""
from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from digitdash import paths, text
from digitdash.i18n import Message, Problem, from_json
from digitdash.plan import kinds
from digitdash.plan.config import RunConfig
from digitdash.runs import metrics, schema
from digitdash.runs.schema import ACTIVE, FINISHED, STATUSES, TRAINED  # noqa: F401  (named here for every reader of runs)

TEACHER = "teacher"     # the owner of command-line runs unless --owner says otherwise


def is_teacher(who: str | None, teacher: bool = False) -> bool:
    """Who counts as the teacher, decided here only: a browser holding the teacher's rights
    (`teacher=True`), the command line (no owner), or the owner the command line runs as."""
    return teacher or who in (None, TEACHER)

HEARTBEAT_SECONDS = 2.0   # a worker's sign of life for each run in hand, whatever it is doing
SILENT_SECONDS = 10.0     # no sign of life for this long (and watched that long here): its worker is taken for dead
LOOK_SECONDS = 2.0        # the pages' reads look for dead workers at most this often per process
LIFE_FILE = "alive"       # in a run's folder: touched by each beat; the worker's last word when the store is full
LIFE_FILE_SIZE = 1024     # written whole once, then only overwritten in place (no new disk space)
MIN_FREE_BYTES = 1 << 20  # less free space than this: new work cannot be saved
TROUBLE_SECONDS = 10.0    # a failed write (or a read that needed the fallback) is remembered this long


class StoreError(Problem):
    """A request the store cannot honour (unknown run, running run deleted, ...)."""


class Store:
    def __init__(self, home: Path | str | None = None):
        try:     # folders are made only when missing: opening an existing store writes nothing
            self.home = paths.ensure_dir(Path(home) if home else paths.home())
            self.runs_dir = paths.ensure_dir(self.home / "runs")
        except OSError as exc:
            raise StoreError("store.unavailable", reason=exc.strerror or type(exc).__name__) from None
        self.db_path = self.home / "digitdash.sqlite"
        self._trouble: tuple[float, str] | None = None     # (when, why) the store last failed to be written
        self._held = threading.local()                       # this thread's request's connection (request())
        with self._db() as db:
            if schema.version(db) is None:                 # a new store: the only open that writes a schema
                schema.create(db)
            found = schema.version(db)
            if found is not None and found > schema.VERSION:    # a newer DigitDash's store: left untouched
                raise StoreError("store.newer_schema", found=found, known=schema.VERSION)
            schema.migrate(db)                             # reads only, unless the store is older
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":   # a store from before WAL
                    db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error:
                pass                                 # read-only just now: switched on a later open

    @contextmanager
    def request(self):
        """One connection for every call this thread makes on the store within the block (a page's
        render, a live tick), instead of one per call. Nested blocks share the outer one."""
        if getattr(self._held, "db", None) is not None:
            yield self
            return
        db = self._open()
        self._held.db = db
        try:
            yield self
        finally:
            self._held.db = None
            db.close()

    @contextmanager
    def _db(self):
        """A connection (this thread's request's, if one is open); a database that cannot be written
        (disk full, read-only, damaged) becomes one StoreError naming the reason, and the open
        transaction is rolled back: nothing stored is lost."""
        held = getattr(self._held, "db", None)
        db = held if held is not None else self._open()
        try:
            yield db
        except sqlite3.Error as exc:
            if db.in_transaction:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if _cannot_write(exc):
                self._trouble = (time.monotonic(), str(exc))
            raise _unavailable(exc) from None
        finally:
            if held is None:
                db.close()

    def _open(self) -> sqlite3.Connection:
        """A connection that can at least read. A WAL database is read through its index file (-shm),
        which a full disk (or a read-only folder) may not let SQLite make: then the index is kept in
        this connection's memory (exclusive locking mode, for the moment the read takes); when another
        process holds the database, or as a last resort, the file is read as it is (immutable), which
        is only done while no write-ahead log waits to be copied into it."""
        try:
            return _connection(self.db_path, timeout=30)
        except sqlite3.Error as exc:
            if not _cannot_write(exc):
                raise _unavailable(exc) from None
            first = exc
        self._trouble = (time.monotonic(), str(first))
        try:
            return _connection(self.db_path, timeout=1, pragmas=("PRAGMA locking_mode=EXCLUSIVE",))
        except sqlite3.Error:
            pass
        wal = self.db_path.with_name(self.db_path.name + "-wal")
        try:
            if not wal.exists() or wal.stat().st_size == 0:
                return _connection(f"file:{self.db_path}?mode=ro&immutable=1", uri=True)
        except (OSError, sqlite3.Error):
            pass
        raise _unavailable(first) from None

    def unwritable(self) -> str | None:
        """Why new work cannot be saved right now (the disk full, the folder read-only), or None.
        Cheap: the file system's free space, and what this process last saw of writing the store."""
        try:
            fs = os.statvfs(self.home)
            free = (fs.f_bfree if os.geteuid() == 0 else fs.f_bavail) * fs.f_frsize
            if fs.f_flag & os.ST_RDONLY:
                return os.strerror(errno.EROFS)
            if free < MIN_FREE_BYTES:
                return os.strerror(errno.ENOSPC)
        except (OSError, AttributeError):
            pass
        if self._trouble and time.monotonic() - self._trouble[0] < TROUBLE_SECONDS:
            return self._trouble[1]
        return None

    # ---- runs ------------------------------------------------------------------------
    def create(self, config: RunConfig, name: str | None = None, owner: str | None = None,
               group: str | None = None, status: str = "queued") -> str:
        name = text.clean(str(name)[:text.RUN_NAME_MAX], "run_name", text.RUN_NAME_MAX) if name is not None else None
        group = text.clean(str(group)[:text.RUN_NAME_MAX], "family", text.RUN_NAME_MAX) if group is not None else None
        now = time.time()
        # A run created running is in the hands of this process (the command line trains it at once).
        hands = (os.getpid(), now, now) if status == "running" else (None, None, None)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            while True:     # the second and four hex digits: a class submitting at once may meet one twice
                run_id = time.strftime("%m%d-%H%M%S-") + secrets.token_hex(2)
                if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                    break
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
            db.execute(
                "INSERT INTO runs (id, seq, name, status, kind, dataset, config, owner, grp, created,"
                " worker_pid, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, seq, name or f"{config.summary()} #{seq}", status, _library(config), config.dataset,
                 config.to_json(), owner, group, now, *hands))
            db.execute("COMMIT")
        try:
            self.run_dir(run_id).mkdir(parents=True, exist_ok=True)
            paths.write_atomic(self.life_file(run_id), b" " * LIFE_FILE_SIZE)   # room for a last word on a full disk
        except OSError as exc:
            with self._db() as db:
                db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            raise StoreError("store.unavailable", reason=exc.strerror or type(exc).__name__) from None
        return run_id

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def get(self, run_id: str) -> dict:
        self._look()
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError("store.no_run", run=repr(run_id))
        return self._seen(_run(row))

    def runs(self, statuses: tuple[str, ...] | None = None, archived: bool = False) -> list[dict]:
        """The runs in the order they were made (`statuses`: only those), without the archived ones
        (`archived=True`: only those). Read once per process and change of a run (the `runs`
        counter), whatever the statuses asked, and only the rows that changed parsed again: a page
        polling a store of hundreds of runs reads one number."""
        self._look()
        statuses = tuple(statuses) if statuses else None
        where = "archive IS NOT NULL" if archived else "archive IS NULL"
        key = (str(self.db_path), archived)
        with self._db() as db:
            version = schema.counter(db, "runs")
            cached = _parsed.get(key)
            if version is None or cached is None or cached[0] != version:
                cached = (version, _parsed_rows(key, db.execute(f"SELECT * FROM runs WHERE {where} ORDER BY seq")))
                if version is not None:
                    with _lock:
                        _parsed[key] = cached
        rows = cached[1] if not statuses else [r for r in cached[1] if r["status"] in statuses]
        if not _verdicts:         # the usual case: no run ended in memory only
            return [dict(r) for r in rows]
        return [self._seen(dict(r)) for r in rows]

    def changes(self) -> tuple[int, int]:
        """The store's change counters (runs, data): `runs` moves when any run's row changes (its
        heartbeat aside), `data` also with epochs, drawings, answers and names. Equal counters,
        equal tables: what was built from them may be reused."""
        with self._db() as db:
            return schema.counter(db, "runs") or 0, schema.counter(db, "data") or 0

    def figures(self, runs: list[dict]) -> dict[str, dict]:
        """metrics.epoch_figures of each run, by id: kept in the store for a finished run, added up
        from its epochs (one query for them all) for the others."""
        out = {r["id"]: r["figures"] for r in runs if r.get("figures") is not None}
        todo = [r["id"] for r in runs if r["id"] not in out]
        epochs: dict[str, list[dict]] = {i: [] for i in todo}
        with self._db() as db:
            for start in range(0, len(todo), 500):
                chunk = todo[start:start + 500]
                for row in db.execute(f"SELECT * FROM epochs WHERE run_id IN ({','.join('?' * len(chunk))})"
                                      " ORDER BY run_id, epoch", chunk):
                    epochs[row["run_id"]].append(dict(row))
        out.update({i: metrics.epoch_figures(e) for i, e in epochs.items()})
        return out

    def queue(self) -> list[str]:
        """The waiting runs in the order they will start (see fair_order)."""
        self._look()
        with self._db() as db:
            return _queue(db)

    def queue_position(self, run_id: str) -> int | None:
        """1 for the next run to start, None when the run is not waiting."""
        q = self.queue()
        return q.index(run_id) + 1 if run_id in q else None

    def claim_next(self, pid: int) -> dict | None:
        """Atomically move the next run of the fair queue to running, owned by process pid."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            order = _queue(db)
            if order:
                now = time.time()
                db.execute("UPDATE runs SET status = 'running', worker_pid = ?, started = ?, heartbeat = ?"
                           " WHERE id = ?", (pid, now, now, order[0]))
            db.execute("COMMIT")
        return self.get(order[0]) if order else None

    def move(self, run_id: str, to: str) -> None:
        """The teacher moves a waiting run to the "front" or the "back" of the queue."""
        if to not in ("front", "back"):
            raise ValueError(to)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT MIN(pin), MAX(pin) FROM runs WHERE status = 'queued'").fetchone()
            pin = (row[0] or 0) - 1 if to == "front" else (row[1] or 0) + 1
            db.execute("UPDATE runs SET pin = ? WHERE id = ? AND status = 'queued'", (pin, run_id))
            db.execute("COMMIT")

    # ---- students ---------------------------------------------------------------------
    def set_student_name(self, student_id: str, name: str) -> str:
        """Record (or change) the name a student goes by; returns it cleaned (text.clean). Two
        students of the class never share a name (case, spacing and look-alike letters ignored)."""
        name = text.clean(name, "name", text.NAME_MAX)        # text.TextError: one message, nothing stored
        key = text.same_key(name)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            for other, other_name in db.execute("SELECT id, name FROM students WHERE id != ?", (student_id,)):
                if text.same_key(other_name) == key:
                    db.execute("ROLLBACK")
                    raise StoreError("store.name_taken", name=name)
            db.execute("INSERT INTO students VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                       (student_id, name, time.time()))
            db.execute("COMMIT")
        return name

    def student_names(self) -> dict[str, str]:
        """owner id -> display name (command-line owners are their own names)."""
        with self._db() as db:
            return {r[0]: r[1] for r in db.execute("SELECT id, name FROM students")}

    def owner_name(self, owner: str | None) -> str:
        if owner is None:
            return TEACHER
        return self.student_names().get(owner, owner)

    def update(self, run_id: str, **fields) -> None:
        for key in ("info", "results"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        if "status" in fields and fields["status"] in FINISHED:
            fields.setdefault("finished", time.time())
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*fields.values(), run_id))
            if fields.get("status") in FINISHED:
                schema.keep_figures(db, run_id)
            db.execute("COMMIT")

    def finish(self, run_id: str, status: str, message: str = "", results: dict | None = None) -> None:
        """Record a run's end, unless it has already ended (a stop racing an end keeps the first)."""
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            ended = db.execute(
                "UPDATE runs SET status = ?, message = ?, message_data = ?, results = COALESCE(?, results),"
                f" finished = ?, heartbeat = ? WHERE id = ? AND status IN ({','.join('?' * len(ACTIVE))})",
                (status, str(message), message.to_json() if isinstance(message, Message) else None,
                 json.dumps(results) if results is not None else None, now, now, run_id, *ACTIVE)).rowcount
            if ended:
                schema.keep_figures(db, run_id)
            db.execute("COMMIT")

    # Who may change a run: `by` is the asking browser session's id. None is the command line, which
    # acts for whoever owns the machine; a teacher (unlocked by the password) may change any run.
    def owned(self, run_id: str, by: str | None = None, teacher: bool = False) -> dict:
        """The run, when `by` may change it: its owner, or the teacher (is_teacher). StoreError otherwise."""
        run = self.get(run_id)
        if not is_teacher(by, teacher) and run["owner"] != by:
            raise StoreError("store.not_yours", run=run["name"])
        return run

    def rename(self, run_id: str, name: str, by: str | None = None, teacher: bool = False) -> None:
        name = text.clean(name, "run_name", text.RUN_NAME_MAX)
        self.owned(run_id, by, teacher)
        self.update(run_id, name=name)

    def delete(self, run_id: str, by: str | None = None, teacher: bool = False) -> None:
        """All of a run: its row, every row naming it (epochs, batches, answers, changes, ...), its
        archive when it was the archive's last run, and its folder (model, arrays, logs). A running run
        is refused, looked at under the write lock so a worker cannot claim it meanwhile. (A worker
        that wakes up after its run went writes nothing back: see _FOR_RUN.)"""
        self.owned(run_id, by, teacher)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            status, archive = db.execute("SELECT status, archive FROM runs WHERE id = ?", (run_id,)).fetchone()
            if status == "running":
                db.execute("ROLLBACK")
                raise StoreError("store.delete_running", run=run_id)
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            for table in schema.run_tables(db):
                db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            if archive is not None:
                db.execute("DELETE FROM archives WHERE id = ? AND NOT EXISTS (SELECT 1 FROM runs WHERE archive = ?)",
                           (archive, archive))
            db.execute("COMMIT")
        _forget(self, run_id)
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def clear(self) -> int:
        """Delete every run that is not running and not archived (the teacher's reset); returns how many went."""
        gone = 0
        for run in self.runs():
            if run["status"] != "running":
                self.delete(run["id"])
                gone += 1
        return gone

    # ---- archives: a lesson's runs put away, back with one call -----------------------
    def archive(self, name: str, by: str | None = None, teacher: bool = False) -> tuple[int, int]:
        """Put every finished run of the class's views away as one archive called `name`: kept with
        its epochs, figures and model, out of every page's lists. Only the teacher (or the command
        line) may. Returns (the archive's id, how many runs went)."""
        if not is_teacher(by, teacher):
            raise StoreError("store.teacher_only")
        name = text.clean(name, "archive", text.RUN_NAME_MAX)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            finished = f"status IN ({','.join('?' * len(FINISHED))}) AND archive IS NULL"
            if not db.execute(f"SELECT COUNT(*) FROM runs WHERE {finished}", FINISHED).fetchone()[0]:
                db.execute("ROLLBACK")
                raise StoreError("store.nothing_to_archive")
            archive_id = db.execute("INSERT INTO archives (name, created) VALUES (?, ?)", (name, time.time())).lastrowid
            moved = db.execute(f"UPDATE runs SET archive = ? WHERE {finished}", (archive_id, *FINISHED)).rowcount
            db.execute("COMMIT")
        return archive_id, moved

    def unarchive(self, archive_id: int, by: str | None = None, teacher: bool = False) -> int:
        """Bring an archive's runs back into the class's views; returns how many came back."""
        if not is_teacher(by, teacher):
            raise StoreError("store.teacher_only")
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            if db.execute("SELECT id FROM archives WHERE id = ?", (int(archive_id),)).fetchone() is None:
                db.execute("ROLLBACK")
                raise StoreError("store.no_archive", archive=repr(archive_id))
            back = db.execute("UPDATE runs SET archive = NULL WHERE archive = ?", (int(archive_id),)).rowcount
            db.execute("DELETE FROM archives WHERE id = ?", (int(archive_id),))
            db.execute("COMMIT")
        return back

    def archives(self) -> list[dict]:
        """Every archive, newest first: {id, name, created, runs}."""
        with self._db() as db:
            return [dict(r) for r in db.execute(
                "SELECT a.id, a.name, a.created, COUNT(r.id) AS runs FROM archives a LEFT JOIN runs r"
                " ON r.archive = a.id GROUP BY a.id ORDER BY a.id DESC")]

    # ---- stopping --------------------------------------------------------------------
    def stop_file(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "STOP"

    def request_stop(self, run_id: str, by: str | None = None, teacher: bool = False) -> str:
        """Ask a run to stop; a queued run is stopped at once. Returns the run's status after.
        `by` and `teacher` as for rename: only the run's owner (or the teacher) may stop it."""
        run = self.owned(run_id, by, teacher)
        if run["status"] == "queued":
            self.finish(run_id, "stopped", Message("run.cancelled"))
        elif run["status"] == "running":
            self.update(run_id, stop_requested=1)
            self.stop_file(run_id).parent.mkdir(parents=True, exist_ok=True)
            self.stop_file(run_id).touch()
        return self.get(run_id)["status"]

    # ---- progress --------------------------------------------------------------------
    def add_epoch(self, run_id: str, row: dict) -> None:
        with self._db() as db:
            db.execute(f"INSERT OR REPLACE INTO epochs SELECT ?, ?, ?, ?, ?, ?, ?, ? {_FOR_RUN}",
                       (run_id, row["epoch"], row.get("loss"), row.get("accuracy"), row.get("val_loss"),
                        row.get("val_accuracy"), row.get("lr"), row.get("seconds"), run_id))
            db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time(), run_id))

    def add_batches(self, run_id: str, rows: list[tuple[int, int, float]]) -> None:
        with self._db() as db:
            db.executemany(f"INSERT OR REPLACE INTO batches SELECT ?, ?, ?, ? {_FOR_RUN}",
                           [(run_id, s, e, l, run_id) for s, e, l in rows])
            db.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time(), run_id))

    def epochs(self, run_id: str) -> list[dict]:
        with self._db() as db:
            return [dict(r) for r in db.execute(
                "SELECT epoch, loss, accuracy, val_loss, val_accuracy, lr, seconds FROM epochs"
                " WHERE run_id = ? ORDER BY epoch", (run_id,))]

    def batches(self, run_id: str) -> list[dict]:
        with self._db() as db:
            return [dict(r) for r in db.execute(
                "SELECT step, epoch, loss FROM batches WHERE run_id = ? ORDER BY step", (run_id,))]

    # ---- changes asked of a running run (the rules are controls.py's) -----------------
    def ask_change(self, run_id: str, kind: str, value: float | None, by: str | None, most: int) -> int | None:
        """Keep a change asked of the run (pause, resume, lr with its `value`); returns its number, or
        None when the run has `most` changes already."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            if db.execute("SELECT COUNT(*) FROM changes WHERE run_id = ?", (run_id,)).fetchone()[0] >= most:
                db.execute("ROLLBACK")
                return None
            seq = db.execute("INSERT INTO changes (run_id, kind, value, asked, by) VALUES (?, ?, ?, ?, ?)",
                             (run_id, kind, value, time.time(), by)).lastrowid
            db.execute("COMMIT")
        return seq

    def change_applied(self, seq: int, step: int, epoch: int) -> None:
        """The worker applied change `seq` at this step and epoch."""
        with self._db() as db:
            db.execute("UPDATE changes SET applied = ?, step = ?, epoch = ? WHERE seq = ?",
                       (time.time(), step, epoch, seq))

    def record_change(self, run_id: str, kind: str, by: str, step: int, epoch: int) -> None:
        """A change the worker made itself, applied at once (a pause that ran out)."""
        now = time.time()
        with self._db() as db:
            db.execute("INSERT INTO changes (run_id, kind, value, asked, by, applied, step, epoch)"
                       f" SELECT ?, ?, NULL, ?, ?, ?, ?, ? {_FOR_RUN}",
                       (run_id, kind, now, by, now, step, epoch, run_id))

    def run_changes(self, run_id: str, pending: bool = False) -> list[dict]:
        """The run's changes, oldest first (`pending`: only those not yet applied)."""
        with self._db() as db:
            return [dict(r) for r in db.execute(
                f"SELECT * FROM changes WHERE run_id = ?{' AND applied IS NULL' if pending else ''} ORDER BY seq",
                (run_id,))]

    # ---- the class's handwriting (the rules are handwriting.py's) ----------------------
    def add_drawing(self, owner: str | None, label: int, image: bytes, original: bytes | None) -> int:
        """Keep a labelled drawing (its 28x28 pixels, the picture it came from as PNG); returns its id."""
        with self._db() as db:
            return int(db.execute(
                "INSERT INTO drawings (owner, label, created, image, original) VALUES (?, ?, ?, ?, ?)",
                (owner, int(label), time.time(), image, original)).lastrowid)

    def drawings(self, owner: str | None = ..., newest_first: bool = False) -> list[dict]:
        """Drawings without their pixels: id, owner, label, created (one owner's when `owner` is given)."""
        query, args = "SELECT id, owner, label, created FROM drawings", ()
        if owner is not ...:
            query, args = query + " WHERE owner IS ?", (owner,)
        with self._db() as db:
            return [dict(r) for r in db.execute(query + (" ORDER BY id DESC" if newest_first else " ORDER BY id"),
                                                args)]

    def drawing(self, drawing_id: int) -> dict | None:
        """One drawing without its pixels (id, owner, label, created); None when there is no such drawing."""
        with self._db() as db:
            row = db.execute("SELECT id, owner, label, created FROM drawings WHERE id = ?",
                             (int(drawing_id),)).fetchone()
        return dict(row) if row else None

    def drawing_pixels(self, ids: list[int] | None = None) -> list[tuple[int, bytes, int]]:
        """(id, the 28x28 pixels, label) of the given drawings, or of all of them, by id."""
        with self._db() as db:
            if ids is None:
                return [tuple(r) for r in db.execute("SELECT id, image, label FROM drawings ORDER BY id")]
            rows = []
            for start in range(0, len(ids), 500):
                chunk = [int(i) for i in ids[start:start + 500]]
                rows += [tuple(r) for r in db.execute(
                    f"SELECT id, image, label FROM drawings WHERE id IN ({','.join('?' * len(chunk))})", chunk)]
        return sorted(rows, key=lambda row: row[0])

    def drawing_original(self, drawing_id: int) -> bytes | None:
        """The picture a drawing came from (PNG), if it was kept."""
        with self._db() as db:
            row = db.execute("SELECT original FROM drawings WHERE id = ?", (int(drawing_id),)).fetchone()
        return row[0] if row else None

    def drawing_labels(self) -> dict[int, int]:
        """drawing id -> the digit its writer meant."""
        with self._db() as db:
            return dict(db.execute("SELECT id, label FROM drawings").fetchall())

    def drawing_counts(self) -> dict[int, int]:
        """digit -> how many drawings of it (the digits drawn at least once)."""
        with self._db() as db:
            rows = db.execute("SELECT label, COUNT(*) FROM drawings GROUP BY label").fetchall()
        return {int(label): int(n) for label, n in rows}

    def delete_drawings(self, ids: list[int] | None = None) -> int:
        """Delete the given drawings (every drawing: None) and every run's answers to them; returns how many went."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            if ids is None:
                db.execute("DELETE FROM answers")
                gone = db.execute("DELETE FROM drawings").rowcount
            else:
                gone = 0
                for drawing_id in ids:
                    db.execute("DELETE FROM answers WHERE drawing_id = ?", (int(drawing_id),))
                    gone += db.execute("DELETE FROM drawings WHERE id = ?", (int(drawing_id),)).rowcount
            db.execute("COMMIT")
        return gone

    def answers(self, run_ids: list[str]) -> dict[str, dict[int, int]]:
        """Each run's kept answers to the class's drawings: run id -> {drawing id: digit}."""
        out: dict[str, dict[int, int]] = {run_id: {} for run_id in run_ids}
        ids = list(out)
        with self._db() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for run_id, drawing, digit in db.execute(
                        f"SELECT run_id, drawing_id, digit FROM answers WHERE run_id IN ({','.join('?' * len(chunk))})",
                        chunk):
                    out[run_id][drawing] = digit
        return out

    def answers_right(self, run_ids: list[str]) -> dict[str, tuple[int, int]]:
        """(how many right, how many) of each run's kept answers, counted by the database (runs without
        any are left out)."""
        out = {}
        with self._db() as db:
            for start in range(0, len(run_ids), 500):
                chunk = run_ids[start:start + 500]
                for run_id, right, total in db.execute(
                        "SELECT a.run_id, SUM(a.digit = d.label), COUNT(*) FROM answers a"
                        " JOIN drawings d ON d.id = a.drawing_id"
                        f" WHERE a.run_id IN ({','.join('?' * len(chunk))}) GROUP BY a.run_id", chunk):
                    out[run_id] = (right, total)
        return out

    def keep_answers(self, run_id: str, answers: dict[int, int]) -> None:
        """Keep the run's answers (drawing id -> digit), while the run is there."""
        with self._db() as db:
            db.executemany(f"INSERT OR REPLACE INTO answers SELECT ?, ?, ? {_FOR_RUN}",
                           [(run_id, int(i), int(d), run_id) for i, d in answers.items()])

    # ---- the teacher's gate (the rules are teacher_gate.py's) ------------------------
    def gate_state(self, student: str, since: float) -> tuple[int, float, int]:
        """(this browser's wrong tries in a row, when its wait ends, the class's wrong tries since `since`)."""
        with self._db() as db:
            row = db.execute("SELECT streak, locked_until FROM gate WHERE student = ?", (student,)).fetchone()
            recent = db.execute("SELECT COUNT(*) FROM wrong_tries WHERE at >= ?", (since,)).fetchone()[0]
        return (row[0], row[1], recent) if row else (0, 0.0, recent)

    def gate_wrong(self, student: str, streak: int, locked_until: float, now: float) -> None:
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO gate VALUES (?, ?, ?) ON CONFLICT(student) DO UPDATE SET"
                       " streak = excluded.streak, locked_until = excluded.locked_until", (student, streak, locked_until))
            db.execute("INSERT INTO wrong_tries VALUES (?, ?)", (now, student))
            db.execute("DELETE FROM wrong_tries WHERE at < ?", (now - 86400,))
            db.execute("COMMIT")

    def grant_teacher(self, student: str, expires: float) -> None:
        """`student`'s browser holds teacher rights until `expires`; its wrong tries are forgotten."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM gate WHERE student = ?", (student,))
            db.execute("INSERT OR REPLACE INTO teachers VALUES (?, ?)", (student, expires))
            db.execute("COMMIT")

    def teacher_until(self, student: str) -> float | None:
        with self._db() as db:
            row = db.execute("SELECT expires FROM teachers WHERE student = ?", (student,)).fetchone()
        return row[0] if row else None

    def revoke_teacher(self, student: str | None = None) -> None:
        """Teacher rights end for one browser (signing out), or for every browser (None)."""
        with self._db() as db:
            if student is None:
                db.execute("DELETE FROM teachers")
            else:
                db.execute("DELETE FROM teachers WHERE student = ?", (student,))

    # ---- signs of life and crash recovery ----------------------------------------------
    def life_file(self, run_id: str) -> Path:
        return self.run_dir(run_id) / LIFE_FILE

    def beat(self, run_id: str) -> bool:
        """The worker's sign of life for a run in hand: runs.heartbeat, and the life file's mtime (which
        a full disk does not stop). False when the store no longer has the run running (it was taken
        for dead, or deleted): the worker should let it go."""
        path = self.life_file(run_id)
        try:
            if path.is_file():
                os.utime(path)
            else:
                paths.write_atomic(path, b" " * LIFE_FILE_SIZE)
        except OSError:
            pass
        try:
            with self._db() as db:
                return db.execute("UPDATE runs SET heartbeat = ? WHERE id = ? AND status = 'running'",
                                  (time.time(), run_id)).rowcount > 0
        except StoreError:
            return True          # the store cannot be written: the life file said it

    def last_word(self, run_id: str, reason: str) -> None:
        """The worker could not record the run's end (the store cannot be written): said in the life
        file, overwritten in place, so that the pages, and whoever ends the run if the worker does not
        live to, say the model could not be saved rather than that the worker died."""
        data = json.dumps({"not_saved": str(reason)[:200]}).encode()
        try:
            fd = os.open(self.life_file(run_id), os.O_WRONLY)
        except OSError:
            return
        try:
            os.pwrite(fd, data.ljust(LIFE_FILE_SIZE)[:LIFE_FILE_SIZE], 0)
        except OSError:
            pass
        finally:
            os.close(fd)

    def _life(self, run_id: str) -> tuple[float | None, str | None]:
        """(the life file's mtime, the worker's last word) of a run in hand."""
        try:
            path = self.life_file(run_id)
            when = path.stat().st_mtime
            word = json.loads(path.read_text().strip() or "{}").get("not_saved")
            return when, word
        except (OSError, ValueError, AttributeError):
            return None, None

    def reap(self) -> list[str]:
        """End the running runs whose worker is gone (its process ended) or silent (no sign of life
        for SILENT_SECONDS, watched that long here): `interrupted` with their epochs kept, or `failed`
        when the worker said it could not record the end (the disk full). Returns the runs ended."""
        with self._db() as db:
            rows = [dict(r) for r in db.execute(
                "SELECT id, worker_pid, started, heartbeat FROM runs WHERE status = 'running'")]
        db_key, running = str(self.db_path), {r["id"] for r in rows}
        with _lock:
            for table in (_verdicts, _silences):
                for key in [k for k in table if k[0] == db_key and k[1] not in running]:
                    del table[key]       # ended meanwhile
        reaped = []
        for row in rows:
            verdict = self._verdict(row)
            if verdict is None:
                with _lock:
                    _verdicts.pop((db_key, row["id"]), None)   # beating again
                continue
            status, message, final = verdict
            key = (db_key, row["id"])
            if not final:                # its worker is alive and will record the end itself
                with _lock:
                    _verdicts[key] = (status, message)
                continue
            try:
                self.finish(row["id"], status, message)
                self.stop_file(row["id"]).touch()    # a silent worker that wakes up lets the run go
            except StoreError:
                with _lock:
                    _verdicts[key] = (status, message)   # said on the pages until it can be written
                continue
            except OSError:
                pass
            with _lock:
                _verdicts.pop(key, None)
            reaped.append(row["id"])
        return reaped

    def _verdict(self, row: dict) -> tuple[str, Message, bool] | None:
        """(status, message, final) for a run in hand whose worker is gone or silent; None while it lives."""
        pid, run_id = row["worker_pid"], row["id"]
        when, word = self._life(run_id)
        gone = not pid or not alive(pid)     # (a number reused by another process: that one does not beat)
        if not gone and pid == os.getpid():
            return None          # this very process has it in hand
        last = max(t for t in (row["heartbeat"], row["started"], when, 0.0) if t is not None)
        silent = not gone and self._silent_for(run_id, last) >= SILENT_SECONDS
        if not (gone or silent or word):
            return None
        epochs = len(self.epochs(run_id))
        if word:
            if gone or silent:
                return "failed", Message("run.not_saved_died", reason=word, epochs=epochs), True
            return "failed", Message("run.not_saved", reason=word), False
        if gone:
            return "interrupted", Message("run.worker_died", epochs=epochs), True
        return "interrupted", Message("run.silent", seconds=round(time.time() - last), epochs=epochs), True

    def _silent_for(self, run_id: str, last: float) -> float:
        """How long the run's last sign of life has been `last`, as watched by this process on the
        monotonic clock. A sign first seen already SILENT_SECONDS old is watched that long again here
        before the run is taken for dead: a server just started, or a machine waking from sleep (a
        laptop closed), gives the worker time to beat before its run is ended."""
        key, now, age = (str(self.db_path), run_id), time.monotonic(), max(0.0, time.time() - last)
        with _lock:
            seen = _silences.get(key)
            if seen is None or seen[0] != last:
                _silences[key] = seen = (last, now - (age if age < SILENT_SECONDS else 0.0))
        return now - seen[1] if age >= SILENT_SECONDS else 0.0

    def _look(self) -> None:
        """The pages' reads notice dead workers: reap() at most every LOOK_SECONDS per process and
        store, never failing the read (a store that cannot be written keeps the verdict in memory)."""
        now = time.monotonic()
        with _lock:
            if now - _looks.get(str(self.db_path), -LOOK_SECONDS) < LOOK_SECONDS:
                return
            _looks[str(self.db_path)] = now
        try:
            self.reap()
        except StoreError:
            pass

    def _seen(self, run: dict) -> dict:
        """The run as the pages should show it: ended, when its worker is known dead but the store
        could not be written to say so (or the worker said it could not record the end)."""
        verdict = _verdicts.get((str(self.db_path), run["id"]))
        if verdict and run["status"] == "running":
            run = {**run, "status": verdict[0], "message": verdict[1]}
        return run

    # ---- artifacts -------------------------------------------------------------------
    def save_model(self, run_id: str, model) -> Path:
        """Write the model whole (paths.write_atomic): a half-written file is never seen."""
        return paths.write_atomic(self.run_dir(run_id) / f"model{getattr(model, 'suffix', '.keras')}", model.save)

    def model_path(self, run_id: str) -> Path | None:
        for suffix in kinds.MODEL_SUFFIXES:
            path = self.run_dir(run_id) / f"model{suffix}"
            if path.is_file():
                return path
        return None

    def quarantine_model(self, run_id: str, message: Message) -> None:
        """A model file that cannot be loaded: set it aside (model.damaged) so nobody is offered it
        again, and say so in the run's message. The run's curves and figures stay."""
        path = self.model_path(run_id)
        if path is not None:
            os.replace(path, path.with_name(f"damaged-{path.name}"))
        with self._db() as db:
            db.execute("UPDATE runs SET message = ?, message_data = ? WHERE id = ?",
                       (str(message), message.to_json(), run_id))

    def save_arrays(self, run_id: str, name: str, arrays: dict) -> None:
        paths.write_atomic(self.run_dir(run_id) / f"{name}.npz", lambda tmp: np.savez_compressed(tmp, **arrays))

    def has_arrays(self, run_id: str, name: str) -> bool:
        return (self.run_dir(run_id) / f"{name}.npz").is_file()

    def load_arrays(self, run_id: str, name: str) -> dict | None:
        path = self.run_dir(run_id) / f"{name}.npz"
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}


_lock = threading.Lock()
_looks: dict[str, float] = {}               # store -> when this process last looked for dead workers
_silences: dict[tuple[str, str], tuple[float, float]] = {}   # (store, run) -> (last sign of life, watched since)
_verdicts: dict[tuple[str, str], tuple[str, Message]] = {}   # (store, run) -> an end not yet written


def _forget(store: "Store", run_id: str) -> None:
    with _lock:
        for table in (_silences, _verdicts):
            table.pop((str(store.db_path), run_id), None)


_parsed: dict[tuple, tuple[int, list[dict]]] = {}   # (store, archived) -> (runs counter, runs parsed)
_rows: dict[tuple, dict[str, tuple[int, dict]]] = {}   # (store, archived) -> run id -> (hash of its row, parsed)


def _parsed_rows(key: tuple, rows) -> list[dict]:
    """The rows as runs, each parsed only when it differs from the last time it was read: after one
    run changes, a store of a thousand runs parses one of them, not a thousand."""
    before = _rows.get(key, {})
    now = {}
    for row in rows:
        raw = hash(tuple(row))      # the row as read, compared whole without keeping its text twice
        hit = before.get(row["id"])
        now[row["id"]] = hit if hit is not None and hit[0] == raw else (raw, _run(row))
    with _lock:
        _rows[key] = now
    return [parsed for _, parsed in now.values()]


# What a statement that adds rows for a run ends with (after `SELECT` and its values, then the run's
# id): the rows are added only while the run is there, so a worker that wakes up after its run was
# deleted (taken for dead, then deleted) leaves nothing behind.
_FOR_RUN = "WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?)"


def _connection(target, timeout: float = 30, uri: bool = False, pragmas=()) -> sqlite3.Connection:
    db = sqlite3.connect(target, timeout=timeout, isolation_level=None, uri=uri)
    try:
        db.row_factory = sqlite3.Row
        for pragma in pragmas:
            db.execute(pragma)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()   # the first read opens the WAL index
    except sqlite3.Error:
        db.close()
        raise
    return db


def _cannot_write(exc: sqlite3.Error) -> bool:
    """SQLite could not write a file (disk full, read-only, I/O error), as opposed to a busy or a broken database."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    if name:
        return name.startswith(("SQLITE_IOERR", "SQLITE_FULL", "SQLITE_READONLY", "SQLITE_CANTOPEN"))
    text = str(exc).lower()
    return any(w in text for w in ("disk i/o error", "disk is full", "readonly database", "unable to open"))


def alive(pid: int) -> bool:
    """Whether process pid is running (not gone, not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _run(row: sqlite3.Row) -> dict:
    run = dict(row)
    run["config"] = RunConfig.from_json(run["config"])
    run["info"] = json.loads(run["info"] or "{}")
    run["results"] = json.loads(run["results"] or "{}")
    run["stop_requested"] = bool(run["stop_requested"])
    run["message"] = from_json(run.pop("message_data", None), run["message"])
    run["figures"] = json.loads(run["figures"]) if run.get("figures") else None
    run["library"] = run.pop("kind")      # the column's old name; the run's kind is config.architecture
    return run


def _unavailable(exc: Exception) -> StoreError:
    return StoreError("store.unavailable", reason=str(exc) or type(exc).__name__)


def fair_order(waiting: list[dict], running: list[dict]) -> list[str]:
    """Round-robin across owners: a run's turn is how many runs of its owner are running or wait
    ahead of it, so a student's second run waits behind everyone's first. The teacher's moves
    (`pin`, lower first) come before turns; ties go to the earlier submission."""
    busy: dict = {}
    for run in running:
        busy[run["owner"]] = busy.get(run["owner"], 0) + 1
    keyed = []
    for run in sorted(waiting, key=lambda r: r["seq"]):
        turn = busy.get(run["owner"], 0)
        busy[run["owner"]] = turn + 1
        keyed.append((run["pin"], turn, run["seq"], run["id"]))
    return [k[-1] for k in sorted(keyed)]


def _queue(db: sqlite3.Connection) -> list[str]:
    rows = [dict(r) for r in db.execute(
        f"SELECT id, seq, owner, pin, status FROM runs WHERE status IN ({','.join('?' * len(ACTIVE))})", ACTIVE)]
    return fair_order([r for r in rows if r["status"] == "queued"], [r for r in rows if r["status"] == "running"])


def _library(config: RunConfig) -> str:
    """What the runs table's `kind` column holds, read as a run's "library": who trains the run
    (keras, scikit-learn, numpy), not the run's kind (mlp, cnn, ...: config.architecture)."""
    return kinds.of(config.architecture).library.lower()
