"""The state database: one SQLite file (WAL) for the outbox, inbox, dedup index and feeds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path, any_thread: bool = False) -> sqlite3.Connection:
    """Open the worker's state database (WAL, so readers never block the writer).

    Connections are in autocommit mode; callers group writes with explicit
    `BEGIN` ... commit (`with conn:`) so that related rows land together.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=30.0, isolation_level=None, check_same_thread=not any_thread
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
    return conn


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
