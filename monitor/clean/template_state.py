"""Learned templates in the state database, so a restarted worker strips as it did before.

Without this, every source starts over after a restart: its first `template_min_count`
items keep their site chrome, which then reaches dedup and the filters.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from monitor.clean.templates import SourceLines, TemplateStore
from monitor.state import migrate, savepoint


class TemplateState:
    """Saves a `TemplateStore`'s changed sources to SQLite and loads them back.

    Saves are incremental (only the sources that learned or were forgotten since the
    last save) and at most every `interval_s` unless forced, so the worker pays for
    them a few times an hour, not per item. What a crash loses is what was learned
    since the last save: statistics, never an item.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conn = conn
        self.interval_s = interval_s
        self.clock = clock
        self._saved_at = clock()
        migrate(conn)  # the tables (monitor.state)
        row = conn.execute("SELECT max(seq) FROM clean_template_source").fetchone()
        self._seq = int(row[0] or 0)

    def load(self, store: TemplateStore) -> int:
        """Restore every saved source into `store`, oldest first; return how many."""
        lines: dict[str, SourceLines] = {}
        order = [
            s for (s,) in self.conn.execute("SELECT source FROM clean_template_source ORDER BY seq")
        ]
        for source in order:
            lines[source] = SourceLines()
        for source, line, count in self.conn.execute(
            "SELECT source, line, count FROM clean_template_line"
        ):
            if source in lines:
                lines[source].counts[line] = count
        for source, item in self.conn.execute("SELECT source, item FROM clean_template_item"):
            if source in lines:
                lines[source].items.add(item)
        for source in order:
            store.restore(source, lines[source])
        # What was just loaded is saved already; only sources the caps dropped on the
        # way (a smaller `template_max_total_lines` than before) must go.
        forgotten = [s for s, kept in store.changes().items() if kept is None]
        if forgotten:
            with savepoint(self.conn, "templates"):
                for source in forgotten:
                    self._delete(source)
        return len(order) - len(forgotten)

    def _write(self, source: str, lines: SourceLines | None) -> None:
        self._delete(source)
        if lines is None:
            return
        self._seq += 1
        self.conn.execute(
            "INSERT INTO clean_template_source (source, seq) VALUES (?, ?)", (source, self._seq)
        )
        self.conn.executemany(
            "INSERT INTO clean_template_line (source, line, count) VALUES (?, ?, ?)",
            ((source, line, count) for line, count in lines.counts.items()),
        )
        self.conn.executemany(
            "INSERT INTO clean_template_item (source, item) VALUES (?, ?)",
            ((source, item) for item in lines.items),
        )

    def _delete(self, source: str) -> None:
        for table in ("clean_template_line", "clean_template_item", "clean_template_source"):
            self.conn.execute(f"DELETE FROM {table} WHERE source = ?", (source,))

    def save(self, store: TemplateStore, force: bool = False) -> int | None:
        """Write the sources changed since the last save; None if not yet due."""
        now = self.clock()
        if not force and now - self._saved_at < self.interval_s:
            return None
        self._saved_at = now
        changes = store.changes()
        if not changes:
            return 0
        try:
            with savepoint(self.conn, "templates"):
                for source, lines in changes.items():
                    self._write(source, lines)
        except BaseException:
            store.unsaved(changes)
            raise
        return len(changes)
