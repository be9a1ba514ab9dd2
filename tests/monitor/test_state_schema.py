"""The state database: one place for connection settings and schema versions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connectors.feedstate import FeedStateStore
from monitor.config import DedupSettings
from monitor.dedup import Deduplicator
from monitor.inbox import Inbox
from monitor.publish.outbox import Outbox
from monitor.state import MIGRATIONS, connect, migrate, version

# The tables as the components created them on open before the schema had a version:
# the dedup story rows of the first state files (no first_t, keep_t, dated), an outbox
# without its row counter, feed state and an inbox.
OLD_SCHEMA = """
CREATE TABLE dedup_meta (key TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TABLE dedup_identity (
    key INTEGER PRIMARY KEY, kind TEXT NOT NULL, item_id TEXT NOT NULL,
    story_id TEXT NOT NULL, t REAL NOT NULL);
CREATE TABLE dedup_story (
    story INTEGER PRIMARY KEY, story_id TEXT NOT NULL UNIQUE, last_t REAL NOT NULL,
    size INTEGER NOT NULL, terms BLOB NOT NULL, weights BLOB NOT NULL, title BLOB NOT NULL);
CREATE INDEX dedup_story_t ON dedup_story (last_t);
CREATE TABLE dedup_posting (term INTEGER NOT NULL, story INTEGER NOT NULL);
CREATE TABLE dedup_item (
    item INTEGER PRIMARY KEY, item_id TEXT NOT NULL, story INTEGER NOT NULL, t REAL NOT NULL,
    outlet TEXT NOT NULL, url TEXT, title TEXT NOT NULL, published REAL, fetched REAL NOT NULL,
    sig BLOB);
CREATE TABLE dedup_band (
    band INTEGER NOT NULL, item INTEGER NOT NULL, PRIMARY KEY (band, item)) WITHOUT ROWID;
CREATE TABLE dedup_df (term INTEGER PRIMARY KEY, df INTEGER NOT NULL, last REAL NOT NULL);
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE TABLE feed_state (name TEXT PRIMARY KEY, configured_url TEXT NOT NULL,
    current_url TEXT NOT NULL, etag TEXT, last_modified TEXT, body_hash TEXT,
    error_count INTEGER NOT NULL DEFAULT 0, total_errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT, last_error_at TEXT, last_status INTEGER, last_check TEXT,
    next_check TEXT, last_success TEXT, last_change TEXT, change_interval_s REAL,
    ttl_s REAL, items_seen INTEGER NOT NULL DEFAULT 0, retired_at TEXT,
    retired_reason TEXT, slow_lane INTEGER NOT NULL DEFAULT 0);
CREATE TABLE inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, item BLOB NOT NULL);
INSERT INTO dedup_meta VALUES ('n_docs', 1), ('clock', 1700000000);
INSERT INTO dedup_story VALUES (1, 'story-one', 1700000000, 1, x'', x'', x'');
INSERT INTO dedup_item VALUES (1, 'item-one', 1, 1700000000, 'outlet', NULL, 'A title',
    NULL, 1700000000, NULL);
INSERT INTO dedup_identity VALUES (42, 'text', 'item-one', 'story-one', 1700000000);
INSERT INTO outbox (message_id, topic, key, value, created) VALUES
    ('m1', 't', 'k', x'7b7d', ''), ('m2', 't', 'k', x'7b7d', '');
INSERT INTO feed_state (name, configured_url, current_url, items_seen)
    VALUES ('feed', 'http://a/', 'http://a/', 7);
"""


def old_database(path: Path) -> None:
    """Write a state file as the code before schema versions left it."""
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    conn.close()


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def test_a_fresh_database_is_at_the_latest_version(tmp_path: Path) -> None:
    conn = connect(tmp_path / "state.db")
    assert version(conn) == len(MIGRATIONS) >= 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"outbox", "inbox", "dedup_story", "dedup_df", "feed_state", "feed_entries"} <= tables
    assert {"clean_template_source", "clean_template_line", "clean_template_item"} <= tables
    assert migrate(conn) == len(MIGRATIONS)  # a second time: nothing to do
    conn.close()


def test_a_database_from_before_versions_opens_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    old_database(db)
    conn = connect(db)
    assert version(conn) == len(MIGRATIONS)
    assert {"first_t", "keep_t", "dated"} <= columns(conn, "dedup_story")
    # The added times start from the story's newest time, as before versioning.
    assert conn.execute("SELECT first_t, keep_t, dated FROM dedup_story").fetchone() == (
        1700000000.0,
        1700000000.0,
        0,
    )
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "dedup_posting" not in names and "dedup_story_t" not in names
    assert "feed_entries" in names and "dedup_story_keep" in names
    conn.close()

    # Every component reads what the old file held.
    box = Outbox(db)
    assert box.depth() == 2  # the row counter starts from the rows already there
    box.ack(["m1"])
    assert box.depth() == 1
    box.close()
    feeds = FeedStateStore(db)
    state = feeds.get("feed")
    assert state is not None and state.items_seen == 7
    feeds.close()
    inbox = Inbox(db)
    assert inbox.count() == 0
    inbox.close()
    dedup = Deduplicator.open(DedupSettings(), db)
    assert dedup.clusterer.index.get("story-one") is not None
    assert dedup.store.clock() == 1700000000.0
    assert dedup.store.sources("story-one")[0].title == "A title"
    dedup.close()


def test_each_component_migrates_a_bare_connection(tmp_path: Path) -> None:
    """A caller's own connection (no `connect()`) gets the tables too."""
    conn = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    Outbox(connection=conn).put([])
    assert version(conn) == len(MIGRATIONS)
    conn.close()


def test_the_migration_joins_a_callers_transaction(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE mine (x)")
    migrate(conn)
    conn.execute("ROLLBACK")  # the caller's rollback takes the migration with it
    assert version(conn) == 0
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    conn.close()


def test_every_connection_gets_the_shared_settings(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    feeds = FeedStateStore(db)
    outbox = Outbox(db)
    dedup = Deduplicator.open(DedupSettings(), db)
    for conn in (feeds._db, outbox._conn, dedup.store._db):  # type: ignore[attr-defined]

        def pragma(name: str, conn: sqlite3.Connection = conn) -> object:
            return conn.execute(f"PRAGMA {name}").fetchone()[0]

        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("secure_delete") == 2  # FAST
        assert pragma("wal_autocheckpoint") == 4000
        assert pragma("busy_timeout") == 30000
    feeds.close()
    outbox.close()
    dedup.close()


def test_a_database_of_a_newer_version_is_refused_clearly(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(sqlite3.DatabaseError, match=r"newer than this news-monitor.*state\.path"):
        connect(db)
