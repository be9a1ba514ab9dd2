"""scripts/bench.py's sections put the figures their measuring functions return into rows.

Small sizes: these check the plumbing from a section's measurement to its row (numbers,
not text parsed back out of another script's output), never a speed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[\d,]+(?:\.\d+)?"


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench modules import each other by name, as they do when run from scripts/."""
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    for name in [m for m in sys.modules if m.startswith(("bench", "_bench_server"))]:
        monkeypatch.delitem(sys.modules, name)


def report() -> Any:
    from bench_common import Report

    return Report()


@pytest.mark.usefixtures("scripts")
def test_the_dedup_rows_carry_the_measured_figures() -> None:
    from bench_dedup import bench_dedup

    rows = report()
    bench_dedup(rows, [500], 25)
    [row] = rows.rows
    assert row.what == "dedup identity+assign, 500 stories indexed"
    assert re.fullmatch(
        rf"{NUMBER} ms CPU/item \({NUMBER} ms wall\); story assignment {NUMBER} ms CPU;"
        rf" RSS {NUMBER}\+{NUMBER} MiB \(\+{NUMBER} B/story, \+{NUMBER} MiB document"
        r" frequencies\)",
        row.project,
    ), row.project


@pytest.mark.usefixtures("scripts")
def test_the_feed_rows_carry_each_rounds_figures() -> None:
    from bench_feeds import bench_feeds

    rows = report()
    bench_feeds(rows, 20)
    assert [r.what for r in rows.rows] == [
        "feed polling, 20 feeds, first poll, every feed new",
        "feed polling, 20 feeds, 5% of feeds changed",
        "feed polling, 20 feeds, nothing changed (304s)",
    ]
    first = rows.rows[0]
    assert re.fullmatch(rf"{NUMBER} polls/s, {NUMBER} ms CPU/poll \(200 items\)", first.project)
    assert "urllib3 + feedparser" in first.bare
    assert re.search(rf"; {NUMBER}x bare CPU \(target <= 1\.5x\)$", first.bare), first.bare


@pytest.mark.usefixtures("scripts")
def test_the_scale_rows_set_two_processes_beside_one() -> None:
    """Tiny sizes through the real daemon path with 1 and 2 workers (generated pages)."""
    from bench_scale import bench_scale

    rows = report()
    bench_scale(rows, None, 4, 3)
    assert [r.what for r in rows.rows] == [
        "Feed polling, every feed changed (4 feeds x 10 entries): items/s with 2 worker"
        " processes (beside 1, same run)",
        "Feed polling, every feed changed (4 feeds x 10 entries): CPU per item, whole process"
        " tree (2 processes beside 1)",
        "Feed polling, every feed changed (4 feeds x 10 entries): items/s on 2 idle cores, from"
        " the CPU split (2 processes beside 1)",
        "HTML pages through the daemon (3 pages, generated pages): items/s with 2 worker"
        " processes (beside 1, same run)",
        "HTML pages through the daemon (3 pages, generated pages): CPU per item, whole process"
        " tree (2 processes beside 1)",
        "HTML pages through the daemon (3 pages, generated pages): items/s on 2 idle cores, from"
        " the CPU split (2 processes beside 1)",
    ]
    feeds, cpu, _, html, _, _ = rows.rows
    assert re.fullmatch(
        rf"{NUMBER} ms \(daemon process {NUMBER}, workers {NUMBER}\)", cpu.project
    ), cpu.project
    assert re.fullmatch(rf"{NUMBER} items/s \(40 items\)", feeds.project), feeds.project
    assert re.fullmatch(rf"{NUMBER} items/s \(1 process\)", feeds.bare), feeds.bare
    assert re.fullmatch(rf"{NUMBER}x", feeds.ratio)
    assert re.fullmatch(rf"{NUMBER} items/s \(3 items\)", html.project), html.project
