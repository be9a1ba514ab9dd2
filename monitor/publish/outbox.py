"""The outbox: messages wait in SQLite until Kafka acknowledges them.

A decision's messages are written here before they are sent; a message leaves the
outbox only once its sink has acknowledged it. After a crash, or while Kafka is
down, whatever is still here is sent again with the same `message_id`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson

from monitor.model import utcnow
from monitor.publish.message import OutMessage
from monitor.state import connect, migrate, savepoint


class OutboxFull(Exception):
    """The outbox holds its configured maximum: Kafka has been away too long."""


class Outbox:
    """Pending messages in the state database, in the order they were written."""

    def __init__(
        self,
        path: Path | None = None,
        max_pending: int = 100_000,
        connection: sqlite3.Connection | None = None,
    ) -> None:
        if connection is None:
            if path is None:
                raise ValueError("Outbox needs a path or a connection")
            connection = connect(path)
            self._owned = True
        else:
            self._owned = False  # the worker's shared connection: its owner closes it
        self._conn = connection
        migrate(connection)  # the tables and their row counter (monitor.state)
        self.max_pending = max_pending
        self._at_most = self.depth()
        """At least depth(): put() reads the counter only when this nears the cap."""

    def put(self, messages: Sequence[OutMessage]) -> None:
        """Store messages durably; a message id already stored is kept once."""
        if not messages:
            return
        # `_at_most` only grows here and is reset by every depth() read (acks only
        # lower the real depth), so the cap costs a query only near the cap.
        if self._at_most + len(messages) > self.max_pending:
            depth = self.depth()
            if depth + len(messages) > self.max_pending:
                raise OutboxFull(f"outbox holds {depth} messages (max {self.max_pending})")
        now = utcnow().isoformat()
        # A savepoint: part of the pipeline's transaction when there is one.
        with savepoint(self._conn, "outbox_put"):
            self._conn.executemany(
                "INSERT OR IGNORE INTO outbox (message_id, topic, key, value, created)"
                " VALUES (?, ?, ?, ?, ?)",
                [(m.message_id, m.topic, m.key, m.value, now) for m in messages],
            )
        self._at_most += len(messages)

    def pending(self, limit: int = 1000) -> list[OutMessage]:
        """Return the oldest messages not yet acknowledged."""
        rows = self._conn.execute(
            "SELECT topic, key, value, message_id FROM outbox ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [OutMessage(topic=t, key=k, value=bytes(v), message_id=m) for t, k, v, m in rows]

    def ack(self, message_ids: Iterable[str]) -> None:
        """Forget messages Kafka has acknowledged."""
        ids = list(message_ids)
        if ids:
            # One statement per settle, atomic on its own; the ids go in as one JSON
            # array, so the statement text (and its prepared form) never changes.
            self._conn.execute(
                "DELETE FROM outbox WHERE message_id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(ids).decode(),),
            )

    def record_failure(self, failures: Iterable[tuple[str, str]]) -> None:
        """Count a failed attempt per message; the message stays to be sent again."""
        rows = [(err, mid) for mid, err in failures]
        if rows:
            with savepoint(self._conn, "outbox_failure"):
                self._conn.executemany(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?"
                    " WHERE message_id = ?",
                    rows,
                )

    def depth(self) -> int:
        """Number of messages waiting for acknowledgement."""
        (n,) = self._conn.execute("SELECT n FROM outbox_depth").fetchone()
        self._at_most = int(n)
        return self._at_most

    def close(self) -> None:
        """Close the database connection (unless it is the worker's shared one)."""
        if self._owned:
            self._conn.close()
