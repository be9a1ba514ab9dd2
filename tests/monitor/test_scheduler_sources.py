"""Sources added and removed at run time (a fetch instance's share changing)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from connectors.poller import FeedPoller
from monitor.config import SourceSettings
from monitor.model import RawItem, Rejected
from monitor.scheduler import SourceScheduler
from tests.connectors.conftest import FeedServer, make_settings, reply
from tests.connectors.conftest import feed_server as feed_server  # the fixture
from tests.monitor.test_scheduler import RSS, wait_for


def test_a_schedule_without_sources_polls_what_it_is_given_and_stops_what_is_taken(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/a"] = reply(200, RSS)
    feed_server.routes["/b"] = reply(200, RSS)
    settings = make_settings(
        [
            SourceSettings(name="a", url=feed_server.url("/a")),
            SourceSettings(name="b", url=feed_server.url("/b")),
        ],
        tmp_path,
    )
    got: list[RawItem | Rejected] = []
    with FeedPoller(settings, tmp_path / "s.db") as poller:
        sched = SourceScheduler(settings, poller, first_poll_spread_s=0, sources=())
        sched.start(got.append)
        try:
            assert sched.scheduler.get_jobs() == []
            sched.add_source("b")
            sched.add_source("b")  # already scheduled: one job
            assert [j.id for j in sched.scheduler.get_jobs()] == ["b"]
            assert wait_for(lambda: len(got) == 1)
            sched.remove_source("b")
            sched.remove_source("b")  # not scheduled any more: nothing to do
            assert sched.next_run("b") is None and sched.next_run("a") is None
            with pytest.raises(KeyError, match="no configured source called 'c'"):
                sched.add_source("c")
        finally:
            sched.shutdown(wait=True)
    assert [item.source for item in got] == ["b"]


def test_wait_idle_waits_for_the_running_poll_of_a_removed_source(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(h: object) -> None:
        started.set()
        release.wait(5)
        reply(200, RSS)(h)  # type: ignore[arg-type]

    feed_server.routes["/s"] = slow
    settings = make_settings([SourceSettings(name="s", url=feed_server.url("/s"))], tmp_path)
    got: list[RawItem | Rejected] = []
    with FeedPoller(settings, tmp_path / "s.db") as poller:
        sched = SourceScheduler(settings, poller, first_poll_spread_s=0, sources=["s"])
        sched.start(got.append)
        try:
            assert started.wait(5)
            sched.remove_source("s")
            assert not sched.wait_idle({"s"}, timeout=0.2)  # still polling
            threading.Timer(0.2, release.set).start()
            t0 = time.monotonic()
            assert sched.wait_idle({"s"}, timeout=5)
            assert time.monotonic() - t0 >= 0.1
        finally:
            sched.shutdown(wait=True)
    assert len(got) == 1  # the poll that ran finished and delivered
