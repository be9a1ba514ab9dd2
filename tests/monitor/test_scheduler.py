"""The source schedule (APScheduler): every source polled, next run adapted, failures contained."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from connectors.poller import FeedPoller
from connectors.polls import PollOutcome, PollStatus
from monitor.config import SourceSettings
from monitor.model import RawItem, Rejected, WorkerStopped, utcnow
from monitor.scheduler import SourceScheduler
from tests.connectors.conftest import FeedServer, make_settings, reply, stream
from tests.connectors.conftest import feed_server as feed_server  # the fixture

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ttl>60</ttl>'
    b"<item><guid>urn:x:1</guid><title>One</title></item></channel></rss>"
)


def wait_for(cond: object, timeout: float = 5.0) -> bool:
    """Poll `cond()` until true or timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_scheduler_polls_each_source_and_adapts_next_run(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/a"] = reply(200, RSS)
    feed_server.routes["/b"] = reply(500, b"no", "text/plain")
    sources = [
        SourceSettings(name="a", url=feed_server.url("/a"), interval_s=900),
        SourceSettings(name="b", url=feed_server.url("/b"), interval_s=900),
    ]
    settings = make_settings(sources, tmp_path)
    got: list[RawItem | Rejected] = []
    outcomes: list[PollOutcome] = []
    lock = threading.Lock()

    def on_item(item: RawItem | Rejected) -> None:
        with lock:
            got.append(item)

    with FeedPoller(settings, tmp_path / "s.db") as poller:
        sched = SourceScheduler(settings, poller, on_poll=outcomes.append, first_poll_spread_s=0)
        sched.start(on_item)
        try:
            job = sched.scheduler.get_job("a")
            assert job.max_instances == 1 and job.coalesce and job.misfire_grace_time is None
            assert wait_for(lambda: len(outcomes) == 2 and poller.state("b").error_count == 1)  # type: ignore[union-attr]
            assert wait_for(lambda: sched.next_run("a") == poller.state("a").next_check)  # type: ignore[union-attr]
            next_a = sched.next_run("a")
        finally:
            sched.shutdown(wait=True)
    assert len(got) == 1 and isinstance(got[0], RawItem)  # the failed feed is no item
    by_feed = {o.name: o for o in outcomes}
    assert by_feed["a"].status is PollStatus.CHANGED
    assert by_feed["b"].status is PollStatus.FAILED and "HTTP 500" in str(by_feed["b"].error)
    assert next_a is not None and next_a >= utcnow() + timedelta(seconds=3500)  # <ttl>60</ttl>


def test_consumer_failure_is_contained_and_item_redelivered(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/a"] = reply(200, RSS)
    settings = make_settings([SourceSettings(name="a", url=feed_server.url("/a"))], tmp_path)
    calls: list[str] = []

    def broken(item: RawItem | Rejected) -> None:
        calls.append(item.input_id)
        raise RuntimeError("pipeline down")

    with FeedPoller(settings, tmp_path / "s.db") as poller:
        sched = SourceScheduler(settings, poller, first_poll_spread_s=0)
        sched.start(broken)
        try:
            assert wait_for(lambda: calls)
            time.sleep(0.1)
            assert sched.scheduler.running
        finally:
            sched.shutdown(wait=True)
        again = [i.input_id for i in stream(poller)]
    assert again == ["urn:x:1"]  # not marked seen: nothing lost


def test_retired_feed_is_not_scheduled(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/gone"] = reply(410, b"", "text/plain")
    settings = make_settings([SourceSettings(name="g", url=feed_server.url("/gone"))], tmp_path)
    with FeedPoller(settings, tmp_path / "s.db") as poller:
        list(stream(poller))
        sched = SourceScheduler(settings, poller, first_poll_spread_s=0)
        assert sched.scheduler.get_job("g") is None


def test_shutdown_while_polls_run_does_not_deadlock(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    started = threading.Event()

    def slow(h: object) -> None:
        started.set()
        time.sleep(0.4)
        reply(200, RSS)(h)  # type: ignore[arg-type]

    feed_server.routes["/s"] = slow
    settings = make_settings([SourceSettings(name="s", url=feed_server.url("/s"))], tmp_path)
    got: list[RawItem | Rejected] = []
    with FeedPoller(settings, tmp_path / "s.db") as poller:
        sched = SourceScheduler(settings, poller, first_poll_spread_s=0)
        sched.start(got.append)
        assert started.wait(5)
        t0 = time.monotonic()
        sched.shutdown(wait=True)  # the running poll finishes and delivers
        assert time.monotonic() - t0 < 3
    assert len(got) == 1 and isinstance(got[0], RawItem)


def test_the_schedule_is_a_daemon_source(feed_server: FeedServer, tmp_path: Path) -> None:
    from monitor.daemon import Source

    feed_server.routes["/a"] = reply(200, RSS)
    settings = make_settings([SourceSettings(name="a", url=feed_server.url("/a"))], tmp_path)
    got: list[RawItem | Rejected] = []
    with FeedPoller(settings, tmp_path / "s.db") as poller:
        source: Source = SourceScheduler(settings, poller, first_poll_spread_s=0)
        source.start(got.append)
        try:
            assert wait_for(lambda: len(got) == 1)
        finally:
            source.shutdown()
    assert isinstance(got[0], RawItem)


def test_a_poll_due_while_the_last_one_runs_is_counted_as_skipped(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The worker falling behind its schedule is visible (polls_skipped, poll lag)."""
    feed_server.routes["/a"] = reply(200, RSS)
    settings = make_settings([SourceSettings(name="a", url=feed_server.url("/a"))], tmp_path)
    release, taken = threading.Event(), threading.Event()
    lags: list[tuple[str, float]] = []
    skipped: list[str] = []

    def slow(item: RawItem | Rejected) -> None:
        taken.set()
        release.wait(10)  # a pipeline that does not keep up

    with FeedPoller(settings, tmp_path / "s.db") as poller:
        sched = SourceScheduler(
            settings,
            poller,
            first_poll_spread_s=0,
            on_lag=lambda feed, s: lags.append((feed, s)),
            on_skip=skipped.append,
        )
        sched.start(slow)
        try:
            assert taken.wait(5)
            sched.scheduler.modify_job("a", next_run_time=utcnow())  # due again now
            assert wait_for(lambda: skipped == ["a"])
        finally:
            release.set()
            sched.shutdown(wait=True)
    assert len(lags) == 1 and lags[0][0] == "a" and 0 <= lags[0][1] < 5


def test_after_shutdown_queued_polls_fetch_nothing_and_a_closed_poller_records_no_failure(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A stop under load: polls queued in the pool start no fetch; a poll that runs into
    the closed poller is interrupted, not counted as the feed's failure."""
    import pytest

    feed_server.routes["/a"] = reply(200, RSS)
    source = SourceSettings(name="a", url=feed_server.url("/a"))
    settings = make_settings([source], tmp_path)
    got: list[RawItem | Rejected] = []
    with FeedPoller(settings, tmp_path / "s.db") as poller:
        sched = SourceScheduler(settings, poller, first_poll_spread_s=3600)
        sched.start(got.append)
        sched.shutdown(wait=False)
        sched._run("a")  # what a poll queued before the stop does when it gets a thread
        assert got == [] and poller.state("a").last_check is None  # type: ignore[union-attr]
    with pytest.raises(WorkerStopped):
        poller.fetch(source)
    with FeedPoller(settings, tmp_path / "s.db") as again:
        state = again.state("a")
        assert state is not None and state.error_count == 0 and state.next_check is None
