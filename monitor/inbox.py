"""The inbox: fetched items the daemon has taken but not yet processed.

A connector hands an item to the daemon, which stores it here before taking it (so
the connector may mark the entry seen), and forgets it once the pipeline has
committed its decision. Whatever is here when the worker stops or crashes (even
`kill -9`) is processed first on the next start, so a fetched item is never lost:
its feed has already moved on, and a conditional GET would not return it again. An
item processed just before a crash, but not yet forgotten here, is processed again
and found by dedup's identity layer (a duplicate, not a second message).

The inbox is a database file of its own beside the state database
(`<state.path>.inbox`): fetch threads store every item at once, while the daemon
holds the state database's write lock for a whole batch (one transaction), so in
the same file every store waited for the batch's commit.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from monitor.model import Origin, RawItem
from monitor.state import connect, transaction


def dump_item(item: RawItem) -> bytes:
    """Serialise a RawItem to JSON bytes."""
    return orjson.dumps(
        {
            "input_id": item.input_id,
            "source": item.source,
            "text": item.text,
            "html": item.html,
            "title": item.title,
            "url": item.url,
            "guid": item.guid,
            "published": item.published.isoformat() if item.published else None,
            "fetched": item.fetched.isoformat(),
            "meta": dict(item.meta),
            "origin": item.origin.value,
        },
        default=str,
    )


def load_item(data: bytes) -> RawItem:
    """Rebuild a RawItem from `dump_item`'s bytes."""
    obj: dict[str, Any] = orjson.loads(data)
    for key in ("published", "fetched"):
        if obj.get(key):
            obj[key] = datetime.fromisoformat(obj[key])
    if obj.get("fetched") is None:
        obj.pop("fetched", None)
    if "origin" in obj:
        obj["origin"] = Origin(obj["origin"])
    return RawItem(**obj)


def inbox_path(state: Path) -> Path:
    """The inbox's database for the state database `state`: `<state>.inbox` beside it."""
    return state.with_name(f"{state.name}.inbox")


class Inbox:
    """Items the daemon has taken and not yet processed; what is left at a start goes first."""

    def __init__(self, state: Path) -> None:
        """Open the inbox of the state database `state` (in `inbox_path(state)`)."""
        # Fetch threads may hand items over while the worker stops: one lock, any thread.
        self._conn: sqlite3.Connection = connect(inbox_path(state), any_thread=True)
        self._lock = threading.Lock()
        self._adopt(state)

    def _adopt(self, state: Path) -> None:
        """Move items an earlier version left in the state database's own inbox table."""
        if not state.exists():
            return
        old = connect(state)
        try:
            rows = old.execute("SELECT item FROM inbox ORDER BY seq").fetchall()
            if rows:
                with transaction(self._conn):
                    self._conn.executemany("INSERT INTO inbox (item) VALUES (?)", rows)
                # Stored here first: a crash in between processes them twice (dedup's
                # identity layer finds the second), never not at all.
                old.execute("DELETE FROM inbox")
        finally:
            old.close()

    def add(self, item: RawItem) -> int:
        """Store one item (committed before this returns); return its sequence number."""
        blob = dump_item(item)
        with self._lock, self._conn:
            cur = self._conn.execute("INSERT INTO inbox (item) VALUES (?)", (blob,))
        return int(cur.lastrowid or 0)

    def remove_many(self, seqs: Iterable[int]) -> None:
        """Forget items once they have been processed (one statement)."""
        with self._lock:
            self._delete(list(seqs))

    def try_remove_many(self, seqs: Iterable[int]) -> bool:
        """`remove_many` unless another thread is storing an item now: then nothing, False.

        A thread storing an item may be waiting for the database's write lock (another
        connection's transaction): the caller keeps the sequence numbers for later
        instead of waiting behind it.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._delete(list(seqs))
            return True
        finally:
            self._lock.release()

    def _delete(self, ids: list[int]) -> None:
        if ids:
            with self._conn:
                self._conn.execute(
                    "DELETE FROM inbox WHERE seq IN (SELECT value FROM json_each(?))",
                    (orjson.dumps(ids).decode(),),
                )

    def count(self) -> int:
        """How many items are stored."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM inbox").fetchone()[0])

    def pending(self) -> list[tuple[int, RawItem]]:
        """Return every stored item with its sequence number, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, item FROM inbox ORDER BY seq").fetchall()
        return [(int(seq), load_item(bytes(blob))) for seq, blob in rows]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()
