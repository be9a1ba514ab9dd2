"""The next-check planner (pure) and the feed table."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.feedstate import (
    FeedState,
    FeedStateStore,
    load_feed_states,
    plan_next_check,
    record_change_interval,
)
from connectors.polls import PollStatus
from monitor.cmd_feeds import render_feed_table
from monitor.config import ScheduleSettings, SourceSettings

NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
SCHED = ScheduleSettings(jitter=0.0)
STATE = FeedState(name="f", configured_url="http://a/", current_url="http://a/")


def delay(state: FeedState = STATE, **kw: object) -> float:
    """Seconds until the planned next check."""
    when, _ = plan_next_check(
        state,
        now=NOW,
        interval_s=900,
        schedule=SCHED,
        rng=random.Random(1),
        **kw,  # type: ignore[arg-type]
    )
    return (when - NOW).total_seconds()


def test_interval_ttl_max_age_retry_after() -> None:
    assert delay(status=PollStatus.CHANGED) == 900
    assert delay(status=PollStatus.UNCHANGED, ttl_s=3600) == 3600
    assert delay(status=PollStatus.UNCHANGED, max_age_s=1800) == 1800
    assert delay(status=PollStatus.UNCHANGED, ttl_s=7 * 86400) == SCHED.max_interval_s  # capped
    assert delay(status=PollStatus.UNCHANGED, max_age_s=60) == 900  # never faster than configured


def test_quiet_feeds_are_polled_less_often() -> None:
    state = FeedState(
        name="f",
        configured_url="u",
        current_url="u",
        change_interval_s=4 * 3600.0,
        last_change=NOW - timedelta(hours=1),
    )
    assert delay(state, status=PollStatus.UNCHANGED) == 2 * 3600  # about twice per observed change
    silent = FeedState(
        name="f", configured_url="u", current_url="u", last_change=NOW - timedelta(days=30)
    )
    assert delay(silent, status=PollStatus.UNCHANGED) == SCHED.max_interval_s


def test_errors_back_off_from_error_backoff_s_then_slow_lane() -> None:
    sched = ScheduleSettings(jitter=0.0, error_backoff_s=30)
    seen = []
    for n in range(1, 8):
        s = FeedState(name="f", configured_url="u", current_url="u", error_count=n)
        when, slow = plan_next_check(
            s, status=PollStatus.FAILED, now=NOW, interval_s=900, schedule=sched,
            rng=random.Random(n),
        )  # fmt: skip
        seen.append(((when - NOW).total_seconds(), slow))
    # Between 1x and 2x error_backoff_s after the first error, doubling with each one.
    for n, (d, _) in enumerate(seen[:4], start=1):
        assert 30 * 2 ** (n - 1) <= d <= 30 * 2**n, (n, d)
    assert [slow for _, slow in seen] == [False] * 4 + [True] * 3
    assert seen[-1][0] == sched.slow_lane_interval_s  # polled still, never dropped
    e = FeedState(name="f", configured_url="u", current_url="u", error_count=1)
    assert delay(e, status=PollStatus.FAILED, retry_after_s=7200) == 7200
    # The setting, not the feed's interval, is the base: a larger base waits longer.
    slower = ScheduleSettings(jitter=0.0, error_backoff_s=600)
    when, _ = plan_next_check(
        e, status=PollStatus.FAILED, now=NOW, interval_s=900, schedule=slower,
        rng=random.Random(1),
    )  # fmt: skip
    assert 600 <= (when - NOW).total_seconds() <= 1200


def test_change_interval_average() -> None:
    s = FeedState(
        name="f", configured_url="u", current_url="u", last_change=NOW - timedelta(hours=1)
    )
    assert record_change_interval(s, NOW) == 3600
    s2 = FeedState(
        name="f",
        configured_url="u",
        current_url="u",
        last_change=NOW - timedelta(hours=2),
        change_interval_s=3600,
    )
    assert record_change_interval(s2, NOW) == 0.3 * 7200 + 0.7 * 3600


def test_store_round_trip_and_table(tmp_path: Path) -> None:
    store = FeedStateStore(tmp_path / "s.db")
    st = store.ensure(SourceSettings(name="world", url="http://a.example/rss"))
    store.save(
        replace(
            st,
            last_success=NOW - timedelta(minutes=5),
            next_check=NOW + timedelta(minutes=10),
            items_seen=42,
            error_count=2,
            total_errors=3,
            last_error="HTTP 500 from x",
        )
    )
    store.save(
        FeedState(
            name="gone",
            configured_url="u",
            current_url="u",
            retired_at=NOW,
            retired_reason="410 Gone from u",
        )
    )
    store.close()
    states = load_feed_states(tmp_path / "s.db")
    assert [s.name for s in states] == ["gone", "world"]
    assert states[1].last_success == NOW - timedelta(minutes=5)
    table = render_feed_table(states, now=NOW)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["NAME", "URL", "STATUS"]
    assert "failing" in lines[3] and "5m ago" in lines[3] and "in 10m" in lines[3]
    assert "42" in lines[3] and "HTTP 500 from x" in lines[3] and "2/3" in lines[3]
    assert "retired" in lines[2] and "410 Gone" in lines[2]
    assert load_feed_states(tmp_path / "absent.db") == []
    assert render_feed_table([]) == "no feeds polled yet"


def test_changed_config_url_resets_state(tmp_path: Path) -> None:
    store = FeedStateStore(tmp_path / "s.db")
    st = store.ensure(SourceSettings(name="x", url="http://a/"))
    store.save(
        FeedState(
            name="x",
            configured_url="http://a/",
            current_url="http://b/",
            retired_at=NOW,
            items_seen=3,
        )
    )
    again = store.ensure(SourceSettings(name="x", url="http://c/"))
    assert again.current_url == "http://c/" and again.retired_at is None and again.items_seen == 3
    assert st.status == "new"
    store.close()


def test_entry_retention_is_the_configured_one(tmp_path: Path) -> None:
    store = FeedStateStore(tmp_path / "s.db", entry_retention=timedelta(days=2))
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    store.mark_seen_many("f", ["gone"], t0)
    store.mark_seen_many("f", ["kept"], t0)
    store.refresh_seen("f", ["kept"], t0 + timedelta(days=1))
    assert store.seen("f", ["gone", "kept"]) == {"gone", "kept"}  # 1 day absent: kept
    store.refresh_seen("f", ["kept"], t0 + timedelta(days=2, hours=1))
    assert store.seen("f", ["gone", "kept"]) == {"kept"}  # absent over 2 days: forgotten
    store.close()
    assert ScheduleSettings().entry_retention_days == 90


def test_the_poller_keeps_entries_as_long_as_the_config_says(tmp_path: Path) -> None:
    from connectors.poller import FeedPoller
    from monitor.config import Settings

    settings = Settings(
        state={"path": tmp_path / "s.db"}, schedule={"entry_retention_days": 0.5}, sources=[]
    )
    with FeedPoller(settings, tmp_path / "s.db") as poller:
        assert poller.store.entry_retention == timedelta(hours=12)


def test_transitions_count_errors_reset_them_and_retire() -> None:
    failing = STATE.with_error(NOW, "HTTP 500 from http://a/").with_error(NOW, "timeout: slow")
    assert (failing.error_count, failing.total_errors) == (2, 2)
    assert failing.last_error == "timeout: slow" and failing.last_error_at == NOW
    assert failing.status == "failing"
    checked = failing.checked(NOW, 304)
    ok = checked.with_success(etag=None, last_modified=None, body_hash="h")
    assert ok.error_count == 0 and ok.total_errors == 2 and ok.last_success == NOW
    assert ok.status == "ok" and not ok.slow_lane
    kept = replace(ok, etag='"e"').with_success(None, "Mon, 01 Jan 2024", "h")
    assert kept.etag == '"e"' and kept.last_modified == "Mon, 01 Jan 2024"  # a 304 omits them
    gone = ok.retire(NOW, "410 Gone from http://a/")
    assert gone.status == "retired" and gone.next_check is None
    assert gone.retired_reason == gone.last_error == "410 Gone from http://a/"
    assert STATE.moved_to("http://b/").current_url == "http://b/"


def test_deferral_counts_no_error_and_waits_for_the_host() -> None:
    deferred = STATE.defer(NOW, 600.0, SCHED)
    assert deferred.error_count == 0 and deferred.last_error is None
    assert deferred.next_check is not None
    assert 600 <= (deferred.next_check - NOW).total_seconds() <= 600 + 0.1 * 600 + 1
    capped = STATE.defer(NOW, 10 * 86400.0, SCHED)
    assert capped.next_check is not None
    assert (capped.next_check - NOW).total_seconds() <= SCHED.max_retry_after_s * 1.1 + 1


def test_schedule_next_check_sets_the_slow_lane() -> None:
    sched = ScheduleSettings(jitter=0.0, slow_lane_after=2)
    once = STATE.with_error(NOW, "x").schedule_next_check(
        PollStatus.FAILED, now=NOW, interval_s=900, schedule=sched, rng=random.Random(1)
    )
    assert not once.slow_lane
    twice = once.with_error(NOW, "x").schedule_next_check(
        PollStatus.FAILED, now=NOW, interval_s=900, schedule=sched
    )
    assert twice.slow_lane and twice.status == "slow lane"
    assert twice.next_check == NOW + timedelta(seconds=sched.slow_lane_interval_s)
    back = twice.with_success(None, None, "h").schedule_next_check(
        PollStatus.CHANGED, now=NOW, interval_s=900, schedule=sched
    )
    assert not back.slow_lane and back.next_check == NOW + timedelta(seconds=900)


def test_feeds_noted_absent_read_nothing_until_written(tmp_path: Path) -> None:
    store = FeedStateStore(tmp_path / "s.db")
    store.mark_seen_many("half", ["k1"], NOW)  # a first poll stopped mid-way: entries, no state
    store.save(replace(STATE, name="old"))
    store.close()
    store = FeedStateStore(tmp_path / "s.db")
    store.note_absent(["new", "half", "old"])
    assert store.seen("half", ["k1", "k2"]) == {"k1"} and store.get("half") is None
    assert store.get("old") == replace(STATE, name="old")
    assert store.seen("new", ["k1"]) == set() and store.get("new") is None
    store.record_poll(replace(STATE, name="new", items_seen=1), ["k1"], NOW, ["k1"], NOW)
    assert store.seen("new", ["k1", "k2"]) == {"k1"}
    assert store.get("new") == replace(STATE, name="new", items_seen=1)
    store.close()


def test_many_entries_are_saved_and_refreshed_in_chunks(tmp_path: Path) -> None:
    store = FeedStateStore(tmp_path / "s.db", entry_retention=timedelta(days=1))
    keys = [f"k{n}" for n in range(1234)]
    store.mark_seen_many("f", keys, NOW)
    store.mark_seen_many("f", keys[:5], NOW)  # seen again: kept once
    assert store.seen("f", [*keys, "new"]) == set(keys)
    store.refresh_seen("f", keys[1:], NOW + timedelta(days=1, hours=1))
    assert store.seen("f", keys) == set(keys[1:])  # k0 was not listed for over a day
    store.close()
