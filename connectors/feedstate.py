"""Per-feed state: the model with its transitions, the pure next-check planner, and SQLite.

`FeedState` is what is remembered about one feed between polls; its transitions
(`with_success`, `with_error`, `defer`, `retire`, `schedule_next_check`, ...) are pure
and are the only way the poller changes it. The state lets a poll be cheap (ETag,
Last-Modified, body hash), lets the schedule adapt (TTL, Cache-Control, Retry-After,
how often entries appear), and lets a person see what every feed is doing
(`news-monitor feeds`). It is stored in the `feed_state` and `feed_entries` tables.
"""

from __future__ import annotations

import functools
import random
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.feedplan import JITTER as JITTER
from connectors.feedplan import plan_next_check as plan_next_check
from connectors.feedplan import record_change_interval as record_change_interval
from connectors.polls import PollStatus
from monitor.config import ScheduleSettings, SourceSettings
from monitor.state import connect, connect_readonly

ENTRY_RETENTION = timedelta(days=90)
"""Seen-entry keys absent from the feed for this long are forgotten (the default of
`schedule.entry_retention_days`)."""


@dataclass(frozen=True, slots=True)
class FeedState:
    """Everything remembered about one feed between polls."""

    name: str
    configured_url: str
    current_url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    error_count: int = 0
    """Consecutive failed polls (0 after a success)."""
    total_errors: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_status: int | None = None
    last_check: datetime | None = None
    next_check: datetime | None = None
    last_success: datetime | None = None
    last_change: datetime | None = None
    """Last poll that brought new entries."""
    change_interval_s: float | None = None
    """Moving average of the time between changes."""
    ttl_s: float | None = None
    """The feed's own <ttl>, kept so a 304 (no body to read it from) still honours it."""
    items_seen: int = 0
    retired_at: datetime | None = None
    retired_reason: str | None = None
    slow_lane: bool = False

    @property
    def status(self) -> str:
        """A short word for the table: ok, failing, slow lane, retired, new."""
        if self.retired_at:
            return "retired"
        if self.slow_lane:
            return "slow lane"
        if self.error_count:
            return "failing"
        return "ok" if self.last_success else "new"

    # -- transitions (pure: each returns the new state) ---------------------------

    def checked(self, now: datetime, status: int) -> FeedState:
        """The server answered `status` to the poll at `now`."""
        return replace(self, last_check=now, last_status=status)

    def moved_to(self, url: str) -> FeedState:
        """The feed moved permanently (only 301/308 redirects): poll `url` from now on."""
        return replace(self, current_url=url)

    def with_success(
        self, etag: str | None, last_modified: str | None, body_hash: str | None
    ) -> FeedState:
        """The poll succeeded: keep the validators, reset the error counter, leave the slow lane.

        A 304 may omit the validators: the ones already held are kept.
        """
        return replace(
            self,
            etag=etag or self.etag,
            last_modified=last_modified or self.last_modified,
            body_hash=body_hash,
            error_count=0,
            slow_lane=False,
            last_success=self.last_check,
        )

    def with_new_entries(self, now: datetime) -> FeedState:
        """The poll found new entries: update the moving average of the time between changes."""
        return replace(self, change_interval_s=record_change_interval(self, now), last_change=now)

    def with_error(self, now: datetime, error: str) -> FeedState:
        """The poll at `now` failed with `error` (one more consecutive error)."""
        return replace(
            self,
            last_check=now,
            error_count=self.error_count + 1,
            total_errors=self.total_errors + 1,
            last_error=error,
            last_error_at=now,
        )

    def retire(self, now: datetime, reason: str) -> FeedState:
        """The feed is gone: no next check until its configured URL changes."""
        return replace(
            self,
            retired_at=now,
            retired_reason=reason,
            next_check=None,
            last_error=reason,
            last_error_at=now,
        )

    def defer(
        self, now: datetime, retry_after_s: float | None, schedule: ScheduleSettings
    ) -> FeedState:
        """Held back (the host asked to wait): no error counted; next check once it allows."""
        wait_s = min(schedule.max_retry_after_s, retry_after_s or 0.0)
        jitter = JITTER.uniform(0, 0.1 * wait_s + 1)
        return replace(self, last_check=now, next_check=now + timedelta(seconds=wait_s + jitter))

    def schedule_next_check(
        self,
        status: PollStatus,
        *,
        now: datetime,
        interval_s: float,
        schedule: ScheduleSettings,
        ttl_s: float | None = None,
        max_age_s: float | None = None,
        retry_after_s: float | None = None,
        rng: random.Random | None = None,
    ) -> FeedState:
        """The state with its next check planned (`plan_next_check`) and slow-lane flag set."""
        next_check, slow = plan_next_check(
            self,
            status=status,
            now=now,
            interval_s=interval_s,
            schedule=schedule,
            ttl_s=ttl_s,
            max_age_s=max_age_s,
            retry_after_s=retry_after_s,
            rng=rng,
        )
        return replace(self, next_check=next_check, slow_lane=slow)


_COLUMNS = tuple(f.name for f in fields(FeedState))
_DATES = {name for name in _COLUMNS if name.endswith(("_at", "_check", "_success", "_change"))}
_UPSERT = (
    f"INSERT OR REPLACE INTO feed_state ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_COLUMNS))})"
)


def _to_row(state: FeedState) -> tuple[Any, ...]:
    # sqlite3 stores bools as 0/1 itself; dates go in as ISO 8601 text.
    return tuple(
        value.isoformat() if isinstance(value, datetime) else value
        for value in (getattr(state, name) for name in _COLUMNS)
    )


def _from_row(row: sqlite3.Row) -> FeedState:
    kwargs: dict[str, Any] = {}
    for key in row.keys():  # noqa: SIM118 - sqlite3.Row is not iterable by key
        value = row[key]
        if key in _DATES and value is not None:
            value = datetime.fromisoformat(value)
        elif key == "slow_lane":
            value = bool(value)
        kwargs[key] = value
    return FeedState(**kwargs)


class FeedStateStore:
    """The `feed_state` and `feed_entries` tables; safe to share between threads."""

    def __init__(
        self,
        path: Path | str,
        *,
        readonly: bool = False,
        entry_retention: timedelta = ENTRY_RETENTION,
    ) -> None:
        self.path = Path(path)
        self.entry_retention = entry_retention
        """How long a seen entry's key is kept after it left its feed (one ~107-byte row
        per entry: the table holds every entry seen over this time)."""
        # The state database's connection settings and tables: monitor.state. Writes
        # below commit with `with self._db:` (Python's implicit transactions).
        if readonly:
            self._db = connect_readonly(self.path)
        else:
            self._db = connect(self.path, any_thread=True, autocommit=False)
        self._db.row_factory = sqlite3.Row
        # One connection, one lock: simple, and far faster than the network.
        self._lock = threading.Lock()
        # Feeds known to have no state row / no seen entries (`note_absent`): their reads
        # are skipped. A write of a feed takes it out, so these only ever err towards reading.
        self._no_state: set[str] = set()
        self._no_entries: set[str] = set()

    def note_absent(self, names: Iterable[str]) -> None:
        """Find which of these feeds have no state or no seen entries yet, in a few queries.

        A new feed's first poll then reads nothing: its state is new and no entry was seen.
        """
        wanted = set(names)
        with self._lock:
            rows = self._db.execute("SELECT name FROM feed_state")
            self._no_state = wanted.difference(r[0] for r in rows)
            names_left = sorted(wanted)
            for i in range(0, len(names_left), 500):
                chunk = names_left[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT DISTINCT feed FROM feed_entries WHERE feed IN ({marks})", chunk
                )
                wanted.difference_update(r[0] for r in rows)
            self._no_entries = wanted

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def get(self, name: str) -> FeedState | None:
        """The state of one feed, if it has been seen."""
        if name in self._no_state:
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM feed_state WHERE name = ?", (name,)).fetchone()
        return _from_row(row) if row else None

    def all(self) -> list[FeedState]:
        """Every feed's state, by name."""
        try:
            with self._lock:
                rows = self._db.execute("SELECT * FROM feed_state ORDER BY name").fetchall()
        except sqlite3.OperationalError:  # a fresh database opened read-only: no table yet
            return []
        return [_from_row(r) for r in rows]

    def ensure(self, source: SourceSettings) -> FeedState:
        """The feed's state, created (or reset, if its configured URL changed) as needed."""
        state = self.get(source.name)
        current = self.current(source, state)
        if current is not state:
            self.save(current)
        return current

    def current(self, source: SourceSettings, state: FeedState | None = None) -> FeedState:
        """The state to poll `source` from: the stored one, or a new one (the poll saves it)."""
        state = state if state is not None else self.get(source.name)
        if state is not None and state.configured_url == source.url:
            return state
        # A new URL in the config is a new feed: forget redirects, retirement, errors.
        fresh = FeedState(name=source.name, configured_url=source.url, current_url=source.url)
        if state is not None:
            fresh = replace(fresh, items_seen=state.items_seen)
        return fresh

    def save(self, state: FeedState) -> None:
        """Insert or replace one feed's state."""
        with self._lock, self._db:
            self._save(state)

    def _save(self, state: FeedState) -> None:
        self._no_state.discard(state.name)
        self._db.execute(_UPSERT, _to_row(state))

    def seen(self, feed: str, keys: Sequence[str]) -> set[str]:
        """Which of these entry keys were already handed on for this feed."""
        out: set[str] = set()
        if feed in self._no_entries:
            return out
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key FROM feed_entries WHERE feed = ? AND key IN ({marks})",
                    (feed, *chunk),
                )
                out.update(r[0] for r in rows)
        return out

    def mark_seen_many(self, feed: str, keys: Iterable[str], now: datetime) -> None:
        """Record that these entries were handed on (after the consumer took them), at once."""
        with self._lock, self._db:
            self._mark_seen(feed, keys, now.isoformat(), now.isoformat())

    def record_poll(
        self,
        state: FeedState,
        seen: list[str],
        seen_at: datetime,
        keys_in_feed: Sequence[str],
        now: datetime,
    ) -> None:
        """One delivered poll in one transaction: entries seen, the state, the feed's keys."""
        with self._lock, self._db:
            # A feed with no entries stored before: no key to refresh, none to forget.
            stored_before = state.name not in self._no_entries
            self._mark_seen(state.name, seen, seen_at.isoformat(), now.isoformat())
            self._save(state)
            if keys_in_feed and stored_before:
                taken = set(seen)
                self._refresh_seen(state.name, [k for k in keys_in_feed if k not in taken], now)

    def refresh_seen(self, feed: str, keys: Iterable[str], now: datetime) -> None:
        """Note that these keys are still in the feed, and forget long-gone ones."""
        with self._lock, self._db:
            self._refresh_seen(feed, list(keys), now)

    def _mark_seen(self, feed: str, keys: Iterable[str], first: str, last: str) -> None:
        self._no_entries.discard(feed)
        # One statement for many rows: cheaper than executemany's step (and GIL release)
        # per row.
        rows = [(feed, key, first, last) for key in keys]
        for i in range(0, len(rows), 200):  # 800 parameters: under old SQLite's 999
            chunk = rows[i : i + 200]
            self._db.execute(_insert_entries(len(chunk)), [v for row in chunk for v in row])

    def _refresh_seen(self, feed: str, keys: Sequence[str], now: datetime) -> None:
        stamp = now.isoformat()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            self._db.execute(
                f"UPDATE feed_entries SET last_seen = ? WHERE feed = ? AND key IN ({marks})",
                (stamp, feed, *chunk),
            )
        self._db.execute(
            "DELETE FROM feed_entries WHERE feed = ? AND last_seen < ?",
            (feed, (now - self.entry_retention).isoformat()),
        )


@functools.lru_cache(maxsize=64)
def _insert_entries(rows: int) -> str:
    """INSERT of `rows` seen entries (a seen one gets its last_seen updated)."""
    values = ", ".join(["(?, ?, ?, ?)"] * rows)
    return (
        f"INSERT INTO feed_entries (feed, key, first_seen, last_seen) VALUES {values}"
        " ON CONFLICT (feed, key) DO UPDATE SET last_seen = excluded.last_seen"
    )


def load_feed_states(state_db: Path | str) -> list[FeedState]:
    """Read every feed's state from the state database (read-only; [] if absent)."""
    path = Path(state_db)
    if not path.exists():
        return []
    store = FeedStateStore(path, readonly=True)
    try:
        return store.all()
    finally:
        store.close()
