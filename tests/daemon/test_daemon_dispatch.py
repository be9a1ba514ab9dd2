"""The daemon's dispatch rules: the inbox's own file, rows forgotten later when the inbox
is busy, and several batches started ahead in worker processes, decided in order."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import orjson
import pytest

from monitor import daemon as daemon_module
from monitor.config import DEFAULT_CONFIG, Settings
from monitor.daemon import Daemon
from monitor.inbox import Inbox, dump_item, inbox_path
from monitor.model import Decision
from monitor.pooled import start_pool
from monitor.publish import Publisher
from monitor.publish.sinks import open_stream_sink
from monitor.state import connect
from monitor.wiring import build_pipeline, build_stages
from tests.daemon.test_daemon_core import ListSource, build, item


def test_the_inbox_is_a_file_of_its_own_beside_the_state(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    inbox = Inbox(state)
    inbox.add(item(1))
    inbox.close()
    assert inbox_path(state) == tmp_path / "state.db.inbox"
    with sqlite3.connect(inbox_path(state)) as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone()[0] == 1


def test_items_an_earlier_version_left_in_the_state_database_are_moved_over(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.db"
    old = connect(state)
    for n in (1, 2, 3):
        old.execute("INSERT INTO inbox (item) VALUES (?)", (dump_item(item(n)),))
    old.close()
    inbox = Inbox(state)
    inbox.add(item(4))
    assert [i.input_id for _, i in inbox.pending()] == ["i1", "i2", "i3", "i4"]
    inbox.close()
    old = connect(state)
    assert old.execute("SELECT count(*) FROM inbox").fetchone()[0] == 0
    old.close()
    assert [i.input_id for _, i in Inbox(state).pending()] == ["i1", "i2", "i3", "i4"]


def test_try_remove_many_does_not_wait_behind_a_store_that_waits(tmp_path: Path) -> None:
    """A fetch thread storing an item while another connection holds the write lock:
    forgetting rows returns at once (False) instead of waiting behind it."""
    state = tmp_path / "state.db"
    inbox = Inbox(state)
    seq = inbox.add(item(1))
    blocker = sqlite3.connect(inbox_path(state), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    storing = threading.Thread(target=inbox.add, args=(item(2),))
    storing.start()
    time.sleep(0.2)  # the store now waits for the write lock, holding the inbox
    started = time.monotonic()
    assert inbox.try_remove_many([seq]) is False
    assert time.monotonic() - started < 0.1
    blocker.execute("COMMIT")
    blocker.close()
    storing.join(5)
    assert inbox.try_remove_many([seq]) is True
    assert [i.input_id for _, i in inbox.pending()] == ["i2"]
    inbox.close()


def test_rows_not_forgotten_during_the_run_are_forgotten_at_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Inbox, "try_remove_many", lambda self, seqs: False)  # always busy
    out = tmp_path / "out.jsonl"
    daemon = build(tmp_path, out)
    source = ListSource([item(n) for n in range(20)], daemon)
    assert daemon.run([source], install_signals=False) == 0
    assert daemon.processed + len(Inbox(tmp_path / "state.db").pending()) == 20
    published = out.read_bytes().splitlines()
    # Each decided item left the inbox at stop; only what was never decided stays.
    assert len(published) == daemon.processed
    assert len(Inbox(tmp_path / "state.db").pending()) == 20 - daemon.processed


def test_a_full_list_of_rows_to_forget_is_forgotten_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Inbox, "try_remove_many", lambda self, seqs: False)
    monkeypatch.setattr(daemon_module, "FORGET_MAX", 5)
    daemon = build(tmp_path, tmp_path / "out.jsonl")
    removed: list[int] = []
    original = Inbox.remove_many

    def remove_many(self: Inbox, seqs: list[int]) -> None:
        removed.append(len(list(seqs)))
        original(self, seqs)

    monkeypatch.setattr(Inbox, "remove_many", remove_many)
    daemon.run(
        [ListSource([item(n) for n in range(30)], daemon, linger_s=1.0)], install_signals=False
    )
    # During the run (not only at stop, the last call): whenever 5 or more rows waited.
    assert len(removed) >= 2
    assert all(n >= 5 for n in removed[:-1])
    assert sum(removed) == 30
    assert Inbox(tmp_path / "state.db").pending() == []


def test_batches_started_ahead_in_workers_are_decided_in_the_order_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small batches, many of them started ahead in two worker processes: the decisions
    come in the order the items were submitted (what dedup and the outbox see)."""
    monkeypatch.setattr(daemon_module, "GATHER_S", 0.0)
    settings = Settings(
        state={"path": tmp_path / "state.db"},
        clean={"min_chars": 10},
        worker={"processes": 2},
        config_dir=DEFAULT_CONFIG.parent,
    )
    out = tmp_path / "out.jsonl"
    publisher = Publisher(lambda: open_stream_sink("jsonl", str(out)))
    stages = build_stages(settings, no_filter=True, state_path=settings.state_path)
    decided: list[str] = []

    def hook(decision: Decision) -> None:
        decided.append(decision.input_id)

    with start_pool(settings, no_filter=True) as pool:
        pipeline = build_pipeline(settings, stages, publisher, hooks=(hook,), pool=pool)
        daemon = Daemon(pipeline, publisher, Inbox(settings.state_path), batch_size=3)
        items = [item(n) for n in range(60)]
        daemon.run([ListSource(items, daemon, linger_s=3.0)], install_signals=False)
    stages.close()
    assert decided == [i.input_id for i in items]
    titles = [orjson.loads(line)["article"]["title"] for line in out.read_bytes().splitlines()]
    assert titles == [f"Headline number {n} here" for n in range(60)]
    assert Inbox(settings.state_path).pending() == []
