"""Learned templates saved to the state database and loaded back after a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.clean import TemplateStore
from monitor.clean.template_state import TemplateState
from monitor.state import connect

FOOTER = "Our journalists work around the clock to bring you the news from the front"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def teach(store: TemplateStore, source: str, items: range) -> None:
    for n in items:
        store.learn(source, f"{source} item {n}", [f"{source} story {n}", FOOTER])


def test_a_restarted_store_strips_what_the_old_one_learned(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = connect(path)
    store = TemplateStore(min_count=3, max_lines=1000)
    teach(store, "unn", range(3))
    teach(store, "kyiv", range(2))
    assert TemplateState(conn, interval_s=300).save(store, force=True) == 2
    conn.close()

    conn = connect(path)
    fresh = TemplateStore(min_count=3, max_lines=1000)
    assert TemplateState(conn, interval_s=300).load(fresh) == 2
    assert fresh.strip("unn", ["new story", FOOTER])[0] == ["new story"]
    assert fresh.template_lines("kyiv") == 0
    # The items it has seen count once, after the restart too.
    fresh.learn("kyiv", "kyiv item 0", [FOOTER])
    assert fresh.strip("kyiv", [FOOTER])[1] == []
    assert fresh.total_lines() == store.total_lines()


def test_saves_are_incremental_and_wait_for_the_interval(tmp_path: Path) -> None:
    conn = connect(tmp_path / "state.db")
    clock = Clock()
    state = TemplateState(conn, interval_s=300, clock=clock)
    store = TemplateStore(min_count=3, max_lines=1000)
    teach(store, "a", range(3))
    assert state.save(store) is None  # not yet due
    clock.now = 301
    assert state.save(store) == 1
    teach(store, "b", range(2))
    clock.now = 700
    assert state.save(store) == 1  # only b changed
    clock.now = 1100
    assert state.save(store) == 0
    rows = conn.execute(
        "SELECT source, count(*) FROM clean_template_line GROUP BY source ORDER BY source"
    ).fetchall()
    assert rows == [("a", 4), ("b", 3)]


def test_forgotten_sources_leave_the_database_and_order_survives(tmp_path: Path) -> None:
    conn = connect(tmp_path / "state.db")
    state = TemplateState(conn, interval_s=300)
    store = TemplateStore(min_count=2, max_lines=100, max_total=6)
    for source in ("s1", "s2", "s3"):
        teach(store, source, range(2))  # 3 lines each: only two sources fit
    state.save(store, force=True)
    saved = [s for (s,) in conn.execute("SELECT source FROM clean_template_source ORDER BY seq")]
    assert saved == ["s2", "s3"]

    fresh = TemplateStore(min_count=2, max_lines=100, max_total=6)
    assert TemplateState(conn, interval_s=300).load(fresh) == 2
    teach(fresh, "s4", range(1))  # the least recently learning source goes first
    assert fresh.template_lines("s2") == 0
    assert fresh.template_lines("s3") == 1


def test_a_smaller_cap_at_load_drops_the_oldest_sources(tmp_path: Path) -> None:
    conn = connect(tmp_path / "state.db")
    store = TemplateStore(min_count=2, max_lines=100)
    for source in ("s1", "s2", "s3"):
        teach(store, source, range(2))
    TemplateState(conn, interval_s=300).save(store, force=True)
    smaller = TemplateStore(min_count=2, max_lines=100, max_total=6)
    assert TemplateState(conn, interval_s=300).load(smaller) == 2
    left = conn.execute("SELECT DISTINCT source FROM clean_template_line ORDER BY 1").fetchall()
    assert left == [("s2",), ("s3",)]


def test_a_failed_save_keeps_the_changes_for_the_next_one(tmp_path: Path) -> None:
    conn = connect(tmp_path / "state.db")
    state = TemplateState(conn, interval_s=300)
    store = TemplateStore(min_count=3, max_lines=1000)
    teach(store, "a", range(3))
    # A write that fails half-way (a temporary trigger: gone when the connection closes).
    conn.execute(
        "CREATE TEMP TRIGGER fail BEFORE INSERT ON clean_template_item"
        " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        state.save(store, force=True)
    assert conn.execute("SELECT count(*) FROM clean_template_line").fetchone() == (0,)
    conn.close()
    conn = connect(tmp_path / "state.db")
    assert TemplateState(conn, interval_s=300).save(store, force=True) == 1
