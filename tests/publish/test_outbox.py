"""Outbox: messages persist until acknowledged, survive reopening, and are bounded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.publish.message import OutMessage
from monitor.publish.outbox import Outbox, OutboxFull
from monitor.state import transaction


def msg(n: int) -> OutMessage:
    return OutMessage(topic="t", key=f"k{n}", value=b"{}", message_id=f"m{n}")


def test_messages_wait_until_acked_and_survive_reopen(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    box = Outbox(db)
    box.put([msg(1), msg(2), msg(1)])
    assert box.depth() == 2
    box.ack(["m1"])
    box.record_failure([("m2", "broker down")])
    box.close()
    again = Outbox(db)
    assert [m.message_id for m in again.pending()] == ["m2"]
    again.close()


def test_outbox_is_bounded(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.db", max_pending=2)
    box.put([msg(1), msg(2)])
    with pytest.raises(OutboxFull):
        box.put([msg(3)])
    box.close()


def test_depth_counter_follows_commits_and_rollbacks(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.db")
    conn = box._conn
    with transaction(conn):
        box.put([msg(1), msg(2)])
    with pytest.raises(RuntimeError), transaction(conn):
        box.put([msg(3), msg(4)])
        raise RuntimeError("the batch failed")
    box.put([msg(2), msg(5)])  # m2 is stored already: kept once
    box.ack(["m1", "m5", "unknown"])
    assert box.depth() == 1
    assert box.depth() == conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    box.close()


def test_counter_starts_from_the_rows_of_an_older_outbox(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    conn = sqlite3.connect(db, isolation_level=None)  # a file from before the counter
    conn.execute(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL"
        " UNIQUE, topic TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, created TEXT"
        " NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)"
    )
    conn.executemany(
        "INSERT INTO outbox (message_id, topic, key, value, created)"
        " VALUES (?, 't', 'k', x'7b7d', '')",
        [(f"old{n}",) for n in range(3)],
    )
    conn.close()
    box = Outbox(db)
    assert box.depth() == 3
    box.ack(["old0"])
    box.close()
    assert Outbox(db).depth() == 2


def test_cap_is_checked_against_the_counter_after_acks(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.db", max_pending=3)
    box.put([msg(1), msg(2), msg(3)])
    box.ack(["m1", "m2"])
    box.put([msg(4), msg(5)])  # room again: the bound is refreshed from the counter
    with pytest.raises(OutboxFull, match="holds 3"):
        box.put([msg(6)])
    box.close()
