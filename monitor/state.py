"""The state database: one SQLite file (WAL) for the outbox, inbox, dedup index and feeds.

This module owns every connection's settings and the schema: `connect()` opens the
file with the shared PRAGMAs and brings its tables to the current version
(`migrate()`, keyed by `PRAGMA user_version`); components only read and write rows.
A schema change is a new entry at the end of `MIGRATIONS`, never an edit of an old one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]


def connect(
    path: Path | str, any_thread: bool = False, autocommit: bool = True
) -> sqlite3.Connection:
    """Open the worker's state database (WAL, so readers never block the writer), migrated.

    Connections are in autocommit mode; callers group writes with `transaction()` /
    `savepoint()` so that related rows land together. `autocommit=False` keeps
    Python's implicit transactions (for callers that commit with `with conn:`).
    `path` may be ":memory:" (a throw-away state).
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path,
        timeout=30.0,
        isolation_level=None if autocommit else "DEFERRED",
        check_same_thread=not any_thread,
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # Freed pages are not zeroed (the state holds public news, no secrets). Debian's
    # SQLite is built with SECURE_DELETE, which rewrites every overflow page an outbox
    # acknowledgement frees (one per ~4 KB message) into the WAL.
    conn.execute("PRAGMA secure_delete=FAST")
    # Checkpoint (and fsync) every ~16 MB of WAL rather than 4 MB: the outbox writes and
    # frees the same pages over and over, and a checkpoint copies each page only once.
    conn.execute("PRAGMA wal_autocheckpoint=4000")
    # Reads dominate in dedup (identity keys, bands, document frequencies): map the
    # file instead of copying pages through SQLite's small default cache.
    conn.execute("PRAGMA mmap_size=268435456")
    conn.execute("PRAGMA cache_size=-8192")
    migrate(conn)
    return conn


def connect_readonly(path: Path | str) -> sqlite3.Connection:
    """Open the state database read-only (a status command beside a running worker)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


@contextmanager
def transaction(conn: sqlite3.Connection | None) -> Iterator[None]:
    """Group writes on `conn` into one transaction (a no-op without a connection).

    Writers inside use SAVEPOINTs, so they work both inside and outside of it.
    """
    if conn is None:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def savepoint(conn: sqlite3.Connection | None, name: str) -> Iterator[None]:
    """A nested unit of writes: its own transaction, or part of an enclosing one."""
    if conn is None:
        yield
        return
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


def version(conn: sqlite3.Connection) -> int:
    """The schema version of the database (`PRAGMA user_version`; 0: not yet versioned)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to the latest schema version; return that version.

    Cheap when it is current (one PRAGMA read), so every component may call it on the
    connection it is given. The steps run in one write transaction (or a savepoint of
    the caller's), so two processes opening the file at once cannot both apply them.
    """
    latest = len(MIGRATIONS)
    current = version(conn)
    if current > latest:
        raise sqlite3.DatabaseError(
            f"its schema version {current} is newer than this news-monitor's ({latest}):"
            " run the newer news-monitor on it, or give another state.path"
        )
    if current == latest:
        return latest
    if conn.in_transaction:
        with savepoint(conn, "migrate"):
            _apply(conn, latest)
    else:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock before reading the version
        try:
            _apply(conn, latest)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return latest


def _apply(conn: sqlite3.Connection, latest: int) -> None:
    current = version(conn)  # again, under the lock: another process may have migrated
    for step in MIGRATIONS[current:latest]:
        step(conn)
    if current < latest:
        conn.execute(f"PRAGMA user_version = {latest}")


def _run(conn: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would COMMIT the migration's transaction.
    # A piece ending in ";" is a whole statement once SQLite says so (triggers hold ";").
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                conn.execute(statement)
            statement = ""
    if statement.strip(" \n;"):
        conn.execute(statement)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


_V1_TABLES = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
-- The outbox's number of rows, kept by triggers in the same transaction as the rows (a
-- rollback or a crash cannot skew it): one row to read where COUNT(*) reads the index.
CREATE TABLE IF NOT EXISTS outbox_depth (
    one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS outbox_depth_put AFTER INSERT ON outbox
    BEGIN UPDATE outbox_depth SET n = n + 1 WHERE one = 1; END;
CREATE TRIGGER IF NOT EXISTS outbox_depth_ack AFTER DELETE ON outbox
    BEGIN UPDATE outbox_depth SET n = n - 1 WHERE one = 1; END;
CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, item BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_meta (key TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_identity (
    key INTEGER PRIMARY KEY, kind TEXT NOT NULL, item_id TEXT NOT NULL,
    story_id TEXT NOT NULL, t REAL NOT NULL);
CREATE INDEX IF NOT EXISTS dedup_identity_t ON dedup_identity (t);
CREATE TABLE IF NOT EXISTS dedup_story (
    story INTEGER PRIMARY KEY, story_id TEXT NOT NULL UNIQUE, last_t REAL NOT NULL,
    size INTEGER NOT NULL, terms BLOB NOT NULL, weights BLOB NOT NULL, title BLOB NOT NULL,
    keep_t REAL NOT NULL DEFAULT 0);
DROP INDEX IF EXISTS dedup_story_t;
DROP TABLE IF EXISTS dedup_posting;
CREATE TABLE IF NOT EXISTS dedup_item (
    item INTEGER PRIMARY KEY, item_id TEXT NOT NULL, story INTEGER NOT NULL, t REAL NOT NULL,
    outlet TEXT NOT NULL, url TEXT, title TEXT NOT NULL, published REAL, fetched REAL NOT NULL,
    sig BLOB);
CREATE INDEX IF NOT EXISTS dedup_item_story ON dedup_item (story);
CREATE INDEX IF NOT EXISTS dedup_item_t ON dedup_item (t);
CREATE TABLE IF NOT EXISTS dedup_band (
    band INTEGER NOT NULL, item INTEGER NOT NULL, PRIMARY KEY (band, item)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_df (
    term INTEGER PRIMARY KEY, df INTEGER NOT NULL, last REAL NOT NULL);
DROP INDEX IF EXISTS dedup_df_last;
CREATE TABLE IF NOT EXISTS feed_state (
    name TEXT PRIMARY KEY,
    configured_url TEXT NOT NULL,
    current_url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,
    error_count INTEGER NOT NULL DEFAULT 0,
    total_errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at TEXT,
    last_status INTEGER,
    last_check TEXT,
    next_check TEXT,
    last_success TEXT,
    last_change TEXT,
    change_interval_s REAL,
    ttl_s REAL,
    items_seen INTEGER NOT NULL DEFAULT 0,
    retired_at TEXT,
    retired_reason TEXT,
    slow_lane INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS feed_entries (
    feed TEXT NOT NULL,
    key TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (feed, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clean_template_source (
    source TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clean_template_line (
    source TEXT NOT NULL,
    line INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (source, line)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clean_template_item (
    source TEXT NOT NULL,
    item INTEGER NOT NULL,
    PRIMARY KEY (source, item)
) WITHOUT ROWID
"""

_V1_STORY_COLUMNS = {
    "keep_t": "REAL NOT NULL DEFAULT 0",
    "first_t": "REAL NOT NULL DEFAULT 0",
    "dated": "INTEGER NOT NULL DEFAULT 0",
}
"""Story columns added before the schema was versioned."""


def _v1_adopt(conn: sqlite3.Connection) -> None:
    """Version 1: every table as it is now; a file from before versioning (tables made
    by each component on open, any subset of them) is completed to the same shape."""
    _run(conn, _V1_TABLES)
    columns = _columns(conn, "dedup_story")
    for name, decl in _V1_STORY_COLUMNS.items():
        if name not in columns:
            conn.execute(f"ALTER TABLE dedup_story ADD COLUMN {name} {decl}")
            if name != "dated":
                conn.execute(f"UPDATE dedup_story SET {name} = last_t")
    # keep_t: the newest keep-from time of the story's items (what expiry reads).
    conn.execute("CREATE INDEX IF NOT EXISTS dedup_story_keep ON dedup_story (keep_t)")
    # The outbox row counter, kept by the triggers (a file from before it: count once).
    if conn.execute("SELECT 1 FROM outbox_depth").fetchone() is None:
        conn.execute("INSERT INTO outbox_depth (one, n) SELECT 1, COUNT(*) FROM outbox")


MIGRATIONS: tuple[Migration, ...] = (_v1_adopt,)
"""Schema steps in order; the database's `user_version` counts those applied."""
