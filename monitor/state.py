"""The state database: one SQLite file (WAL) for the outbox, inbox, dedup index and feeds."""

from __future__ import annotations

import sqlite3
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
    return conn
