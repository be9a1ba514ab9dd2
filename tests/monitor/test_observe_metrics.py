"""Metrics as plain objects: helpers, registries kept apart, config section."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from connectors.feedstate import FeedState
from connectors.polls import PollError, PollOutcome, PollStatus
from monitor.config import ConfigError, ObserveSettings, SourceSettings, load_settings
from monitor.observe import Metrics, Readiness, readiness_body


def value(m: Metrics, name: str, **labels: str) -> float:
    got = m.registry.get_sample_value(name, labels)
    assert got is not None, name
    return got


def test_record_poll_counts_outcomes_and_fetches() -> None:
    m = Metrics()
    kcna = SourceSettings(name="kcna", url="http://kcna.example/rss")
    tass = SourceSettings(name="tass", url="http://tass.example/rss")
    error = PollError("timeout", "timeout: ReadTimeout fetching http://tass.example/rss")
    m.record_poll(PollOutcome(kcna, PollStatus.CHANGED, seconds=0.2, overflow=True))
    ok_at = value(m, "news_monitor_feed_last_success_timestamp_seconds", feed="kcna")
    assert abs(ok_at - time.time()) < 60
    m.record_poll(PollOutcome(kcna, PollStatus.FAILED, error=error, seconds=0.1))
    m.record_poll(PollOutcome(tass, PollStatus.FAILED, error=error, seconds=20.0))
    m.record_poll(PollOutcome(tass, PollStatus.DEFERRED, error=error))  # nothing was asked
    retired = FeedState(name="tass", configured_url=tass.url, current_url=tass.url)
    m.record_poll(PollOutcome(tass, PollStatus.RETIRED, state=retired, error=error))
    m.record_poll(PollOutcome(tass, PollStatus.RETIRED, error=error))  # retired before: no request
    assert value(m, "news_monitor_feed_fetches_total", feed="kcna") == 2
    assert value(m, "news_monitor_feed_errors_total", feed="kcna") == 1
    assert value(m, "news_monitor_feed_fetches_total", feed="tass") == 2
    assert value(m, "news_monitor_feed_errors_total", feed="tass") == 2
    assert value(m, "news_monitor_fetch_duration_seconds_count") == 4
    assert value(m, "news_monitor_feed_overflows_total", feed="kcna") == 1
    assert value(m, "news_monitor_feed_polls_total", outcome="failed") == 2
    assert value(m, "news_monitor_feed_polls_total", outcome="deferred") == 1
    assert value(m, "news_monitor_feed_polls_total", outcome="retired") == 2
    assert value(m, "news_monitor_feed_polls_total", outcome="unchanged") == 0  # from the start
    # A feed's health is never an item decision.
    assert value(m, "news_monitor_items_total", decision="rejected") == 0
    # A failed fetch never counts as a success.
    assert (
        m.registry.get_sample_value(
            "news_monitor_feed_last_success_timestamp_seconds", {"feed": "tass"}
        )
        is None
    )
    assert value(m, "news_monitor_feed_last_success_timestamp_seconds", feed="kcna") == ok_at


def test_two_workers_do_not_share_counts() -> None:
    a, b = Metrics(), Metrics()
    a.record_decision("filtered")
    assert value(a, "news_monitor_items_total", decision="filtered") == 1
    assert value(b, "news_monitor_items_total", decision="filtered") == 0


def test_no_created_series_clutter_the_output() -> None:
    m = Metrics()
    m.record_decision("published")
    assert (
        m.registry.get_sample_value("news_monitor_items_created", {"decision": "published"}) is None
    )


def test_every_named_instrument_is_exported() -> None:
    m = Metrics()
    m.items_in_flight.inc()
    m.outbox_capacity.set(10000)
    m.outbox_full.inc()
    m.messages_published.labels(topic="news.stories").inc()
    m.publish_errors.labels(topic="news.deadletter").inc()
    assert value(m, "news_monitor_items_in_flight") == 1
    assert value(m, "news_monitor_outbox_capacity") == 10000
    assert value(m, "news_monitor_outbox_full_total") == 1
    assert value(m, "news_monitor_messages_published_total", topic="news.stories") == 1
    assert value(m, "news_monitor_publish_errors_total", topic="news.deadletter") == 1


def test_no_checks_means_ready() -> None:
    assert readiness_body(Readiness().evaluate()) == (200, {"status": "ready", "checks": {}})


def test_observe_section_loads_and_rejects_bad_port(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("observe:\n  host: 0.0.0.0\n  port: 9999\n", encoding="utf-8")
    assert load_settings(good).observe == ObserveSettings(host="0.0.0.0", port=9999)

    bad = tmp_path / "bad.yaml"
    bad.write_text("observe:\n  port: 70000\n  enable: true\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(bad)
    keys = sorted(p.key for p in err.value.problems)
    assert keys == ["observe.enable", "observe.port"]


def test_observe_port_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "m.yaml"
    cfg.write_text("observe:\n  port: 9180\n", encoding="utf-8")
    monkeypatch.setenv("NEWS_MONITOR_OBSERVE__PORT", "9300")
    assert load_settings(cfg).observe.port == 9300


def test_falling_behind_the_schedule_is_exported() -> None:
    m = Metrics()
    m.feed_overflows.labels(feed="kcna").inc()
    m.polls_skipped.labels(feed="kcna").inc()
    m.poll_lag_seconds.observe(12.0)
    assert value(m, "news_monitor_feed_overflows_total", feed="kcna") == 1
    assert value(m, "news_monitor_polls_skipped_total", feed="kcna") == 1
    assert value(m, "news_monitor_poll_lag_seconds_count") == 1
