"""The run store's tables, in one place: what each holds, the statuses a run goes through, the
change counters and their triggers, and the steps that bring an older store up to this version."""
from __future__ import annotations

import json
import sqlite3

from digitdash.plan import kinds
from digitdash.runs import metrics

VERSION = 8
# A run's statuses, named once: waiting or training (ACTIVE), then one of FINISHED; TRAINED are the
# finished runs whose network can be read (its weights kept).
ACTIVE = ("queued", "running")
TRAINED = ("done", "stopped")
FINISHED = (*TRAINED, "diverged", "failed", "interrupted")
STATUSES = (*ACTIVE, *FINISHED)

# The class's own handwriting (see handwriting.py): labelled drawings, and each run's answer to each.
HANDWRITING = [
    "CREATE TABLE IF NOT EXISTS drawings (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT, label INTEGER NOT NULL,"
    " created REAL NOT NULL, image BLOB NOT NULL, original BLOB)",
    "CREATE TABLE IF NOT EXISTS answers (run_id TEXT NOT NULL, drawing_id INTEGER NOT NULL, digit INTEGER NOT NULL,"
    " PRIMARY KEY (run_id, drawing_id))",
]
# Changes asked of a running run (controls.py): pause, resume, a new learning rate, and where each took effect.
CHANGES = [
    "CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,"
    " kind TEXT NOT NULL, value REAL, asked REAL NOT NULL, by TEXT, applied REAL, step INTEGER, epoch INTEGER)",
]
# The teacher's gate (teacher_gate.py): each browser's run of wrong password tries, every wrong try
# (for the class-wide budget), and the browsers holding teacher rights until they expire.
GATE = [
    "CREATE TABLE IF NOT EXISTS gate (student TEXT PRIMARY KEY, streak INTEGER NOT NULL, locked_until REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS wrong_tries (at REAL NOT NULL, student TEXT)",
    "CREATE TABLE IF NOT EXISTS teachers (student TEXT PRIMARY KEY, expires REAL NOT NULL)",
]
# A lesson's runs put away by the teacher (archive): kept with everything they hold, out of the class's views.
ARCHIVES = [
    "CREATE TABLE IF NOT EXISTS archives (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, created REAL NOT NULL)",
    lambda db: add_column(db, "runs", "archive INTEGER"),
    "CREATE INDEX IF NOT EXISTS runs_archive ON runs(archive, seq)",
]
# What each finished run's epochs add up to (metrics.epoch_figures), kept when it ends.
FIGURES = [lambda db: add_column(db, "runs", "figures TEXT")]
# Two change counters in `meta`, raised by triggers: `runs` when a run's row changes (anything but its
# heartbeat), `data` when anything a table of runs shows changes (a run, an epoch, a drawing, an
# answer, a name). A reader caches what it built until its counter moves (Store.changes).
TRACKED = ("name", "status", "kind", "dataset", "config", "owner", "grp", "message", "message_data", "device",
            "started", "finished", "worker_pid", "stop_requested", "params", "flops", "info", "results", "pin",
            "archive", "figures")
# They start at a random number: a store made anew in the same folder never meets an old cache.
COUNTERS = [f"INSERT OR IGNORE INTO meta VALUES ('{c}', abs(random() % 1000000000000))" for c in ("runs", "data")] + [
    f"CREATE TRIGGER IF NOT EXISTS counted_{table}_{event.split()[0].lower()} AFTER {event} ON {table} BEGIN "
    f"UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key IN ({counters}); END"
    for table, event, counters in [
        ("runs", "INSERT", "'runs', 'data'"), ("runs", "DELETE", "'runs', 'data'"),
        ("runs", f"UPDATE OF {', '.join(TRACKED)}", "'runs', 'data'"),
        ("epochs", "INSERT", "'data'"), ("drawings", "INSERT", "'data'"), ("drawings", "DELETE", "'data'"),
        ("answers", "INSERT", "'data'"), ("students", "INSERT", "'data'"), ("students", "UPDATE", "'data'")]]
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- runs.kind holds the library that trains the run (keras, scikit-learn, numpy), read as "library"
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    kind TEXT NOT NULL, dataset TEXT NOT NULL, config TEXT NOT NULL,
    owner TEXT, grp TEXT, message TEXT NOT NULL DEFAULT '', message_data TEXT, device TEXT,
    created REAL NOT NULL, started REAL, finished REAL, heartbeat REAL, worker_pid INTEGER,
    stop_requested INTEGER NOT NULL DEFAULT 0, params INTEGER, flops INTEGER,
    info TEXT NOT NULL DEFAULT '{}', results TEXT NOT NULL DEFAULT '{}', pin INTEGER NOT NULL DEFAULT 0,
    archive INTEGER, figures TEXT);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status, seq);
CREATE INDEX IF NOT EXISTS runs_archive ON runs(archive, seq);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL, epoch INTEGER NOT NULL, loss REAL, accuracy REAL, val_loss REAL,
    val_accuracy REAL, lr REAL, seconds REAL, PRIMARY KEY (run_id, epoch));
CREATE TABLE IF NOT EXISTS batches (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, epoch INTEGER NOT NULL, loss REAL,
    PRIMARY KEY (run_id, step));
CREATE TABLE IF NOT EXISTS students (id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL);
""" + "".join(s + ";\n" for s in HANDWRITING + CHANGES + GATE + ARCHIVES[:1])


def add_column(db: sqlite3.Connection, table: str, column: str) -> None:
    """ALTER TABLE ... ADD COLUMN, unless the table has it already (a migration met twice)."""
    if column.split()[0] not in [c[1] for c in db.execute(f"PRAGMA table_info({table})")]:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def counter(db: sqlite3.Connection, name: str) -> int | None:
    """A change counter's value (None in a store from before counters, read but not yet migrated)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row else None


def keep_figures(db: sqlite3.Connection, run_id: str | None) -> None:
    """Keep a finished run's metrics.epoch_figures in its row (every finished run without them: None)."""
    where = "id = ?" if run_id else f"figures IS NULL AND status IN ({','.join('?' * len(FINISHED))})"
    for (rid,) in db.execute(f"SELECT id FROM runs WHERE {where}", (run_id,) if run_id else FINISHED).fetchall():
        epochs = [dict(r) for r in db.execute("SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", (rid,))]
        db.execute("UPDATE runs SET figures = ? WHERE id = ?", (json.dumps(metrics.epoch_figures(epochs)), rid))


def run_tables(db: sqlite3.Connection) -> list[str]:
    """Every table with a run_id column (a new one is covered by delete without being named there)."""
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [n for n in names if any(c[1] == "run_id" for c in db.execute(f"PRAGMA table_info('{n}')"))]


# Each step takes the store from version N to N + 1 (index N - 1). Version 1 had no message_data;
# version 2 had no teacher's queue moves (pin) and no students' names; version 3 wrote 'keras' as
# every run's library (the `kind` column); version 4 had no class handwriting; version 7 had no
# archives, no figures kept at a run's end and no change counters (its finished runs get their
# figures on the way up).
MIGRATIONS = [
    ["ALTER TABLE runs ADD COLUMN message_data TEXT"],
    ["ALTER TABLE runs ADD COLUMN pin INTEGER NOT NULL DEFAULT 0",
     "CREATE TABLE IF NOT EXISTS students (id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL)"],
    ["UPDATE runs SET kind = CASE json_extract(config, '$.architecture') "
     + " ".join(f"WHEN '{k.name}' THEN '{k.library.lower()}'" for k in kinds.KINDS.values())
     + " ELSE kind END"],
    HANDWRITING,
    CHANGES,
    GATE,
    ARCHIVES + FIGURES + COUNTERS + [lambda db: keep_figures(db, None)],
]


def create(db: sqlite3.Connection) -> None:
    """A new store's tables, counters and version, in write-ahead-log mode (kept by the file: later
    connections need not set it)."""
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(TABLES + "".join(s + ";\n" for s in COUNTERS))
    db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(VERSION),))


def version(db: sqlite3.Connection) -> int | None:
    """The store's schema version; None for a new, empty store."""
    try:
        return int(db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    except (sqlite3.OperationalError, TypeError):
        return None


def migrate(db: sqlite3.Connection) -> None:
    """Bring a store written by an older DigitDash up to VERSION, keeping every run."""
    if version(db) == VERSION:
        return                                   # the usual case: no write lock taken
    db.execute("BEGIN IMMEDIATE")
    try:
        for step in range(version(db), VERSION):   # read again under the lock
            for statement in MIGRATIONS[step - 1]:
                statement(db) if callable(statement) else db.execute(statement)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(VERSION),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
