"""Document frequencies: all in memory while the table fits, read from it past that."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.dedup import docfreq
from monitor.dedup.docfreq import DocFreqs
from monitor.state import connect, savepoint


def _reads(db: sqlite3.Connection) -> list[str]:
    """Collect the statements that read `dedup_df` from now on."""
    seen: list[str] = []
    db.set_trace_callback(lambda sql: seen.append(sql) if "FROM dedup_df" in sql else None)
    return seen


def _count(df: DocFreqs, db: sqlite3.Connection, docs: list[list[int]]) -> None:
    with savepoint(db, "t"):
        for i, terms in enumerate(docs):
            df.count(terms, float(i))
        df.flush()


def test_stored_counts_are_read_once_at_start_and_never_per_look_up(tmp_path: Path) -> None:
    db = connect(tmp_path / "state.db")
    _count(DocFreqs(db), db, [[1, 2], [2, 3], [2]])
    df = DocFreqs(db)  # a restart: the whole (small) table is read here
    reads = _reads(db)
    assert df.get([1, 2, 3, 4, 2]) == (3, {1: 1, 2: 3, 3: 1})
    df.count([4, 2], 5.0)  # pending counts are added to the stored ones
    assert df.get([2, 4, 5]) == (4, {2: 4, 4: 1})
    _count(df, db, [[5]])
    assert df.get([2, 4, 5]) == (5, {2: 4, 4: 1, 5: 1})
    assert reads == []


def test_past_the_bound_unknown_terms_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = connect(tmp_path / "state.db")
    _count(DocFreqs(db), db, [[1, 2, 3], [3]])
    monkeypatch.setattr(docfreq, "DF_CACHE", 2)
    df = DocFreqs(db)  # three stored terms: too many to hold
    reads = _reads(db)
    assert df.get([1, 3, 9]) == (2, {1: 1, 3: 2})
    assert reads  # read, and the same counts as when all of it is in memory
    monkeypatch.setattr(docfreq, "DF_CACHE", 3)
    grown = DocFreqs(db)
    assert grown.get([1, 3, 9]) == (2, {1: 1, 3: 2})
    _count(grown, db, [[7]])  # a fourth term: the memory gives up holding all
    assert grown.get([1, 3, 7, 9]) == (3, {1: 1, 3: 2, 7: 1})


def test_a_rolled_back_flush_is_forgotten_on_reload(tmp_path: Path) -> None:
    db = connect(tmp_path / "state.db")
    df = DocFreqs(db)
    _count(df, db, [[1]])
    with pytest.raises(RuntimeError), savepoint(db, "outer"):
        _count(df, db, [[1, 2]])
        raise RuntimeError("the caller rolls back")
    df.reload()
    assert df.get([1, 2]) == (1, {1: 1})


def test_halving_keeps_memory_and_table_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docfreq, "DF_HALVE_AT", 4)
    db = connect(tmp_path / "state.db")
    df = DocFreqs(db)
    _count(df, db, [[1, 2], [1], [1], [1]])  # the 4th document halves: 1 -> 2, 2 -> gone
    assert df.get([1, 2]) == (2, {1: 2})
    assert DocFreqs(db).get([1, 2]) == (2, {1: 2})


def test_a_crash_loses_at_most_one_batch_of_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docfreq, "DF_FLUSH_EVERY", 3)
    db = connect(tmp_path / "state.db")
    df = DocFreqs(db)
    for i in range(7):  # two whole batches written, the seventh document pending
        with savepoint(db, "item"):
            df.count([1, 2 + i], float(i))
    # No flush, no close: a fresh connection sees what a restart after kill -9 would.
    restarted = DocFreqs(connect(tmp_path / "state.db"))
    assert restarted.get([1, 2, 7, 8]) == (6, {1: 6, 2: 1, 7: 1})
    assert df.get([1, 8]) == (7, {1: 7, 8: 1})  # the live process counts all seven


def test_counts_in_order_are_the_look_ups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = connect(tmp_path / "state.db")
    _count(DocFreqs(db), db, [[1, 2], [2, 3], [2]])
    df = DocFreqs(db)
    df.count([4, 2], 5.0)
    assert df.counts([2, 9, 4, 1, 2]) == (4, [4, 0, 1, 1, 4])
    monkeypatch.setattr(docfreq, "DF_CACHE", 2)  # past the bound: read from the table
    assert DocFreqs(db).counts([2, 9, 3]) == (3, [3, 0, 1])
