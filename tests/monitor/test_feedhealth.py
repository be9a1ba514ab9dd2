"""A feed's health from its poll outcome: one log line naming the feed and error, and metrics."""

from __future__ import annotations

from datetime import UTC, datetime

from structlog.testing import capture_logs

from connectors.feedstate import FeedState
from connectors.polls import PollError, PollOutcome, PollStatus
from monitor.config import SourceSettings
from monitor.feedhealth import report_poll
from monitor.observe import Metrics

SOURCE = SourceSettings(name="kcna", url="http://kcna.example/rss")
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def test_a_failed_poll_is_a_warning_naming_the_feed_and_its_error() -> None:
    state = FeedState(name="kcna", configured_url=SOURCE.url, current_url=SOURCE.url)
    failing = state.with_error(NOW, "HTTP 503 from http://kcna.example/rss")
    error = PollError("status", "HTTP 503 from http://kcna.example/rss")
    metrics = Metrics()
    with capture_logs() as logs:
        report_poll(PollOutcome(SOURCE, PollStatus.FAILED, state=failing, error=error), metrics)
    (line,) = logs
    assert line["event"] == "feed.poll_failed" and line["log_level"] == "warning"
    assert line["source"] == "kcna" and line["kind"] == "status" and line["errors"] == 1
    assert line["error"] == "HTTP 503 from http://kcna.example/rss"
    registry = metrics.registry
    assert registry.get_sample_value("news_monitor_feed_errors_total", {"feed": "kcna"}) == 1
    assert registry.get_sample_value("news_monitor_feed_polls_total", {"outcome": "failed"}) == 1
    assert registry.get_sample_value("news_monitor_items_total", {"decision": "rejected"}) == 0


def test_slow_lane_retired_and_deferred_polls_are_logged_as_such() -> None:
    error = PollError("timeout", "timeout: ReadTimeout")
    with capture_logs() as logs:
        report_poll(PollOutcome(SOURCE, PollStatus.FAILED, error=error, entered_slow_lane=True))
        report_poll(PollOutcome(SOURCE, PollStatus.RETIRED, error=PollError("gone", "410 Gone")))
        report_poll(PollOutcome(SOURCE, PollStatus.DEFERRED, error=PollError("deferred", "busy")))
        report_poll(PollOutcome(SOURCE, PollStatus.UNCHANGED))
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("feed.poll_failed", "warning"),
        ("feed.slow_lane", "warning"),
        ("feed.retired", "warning"),
        ("feed.deferred", "info"),
        ("feed.polled", "debug"),
    ]
    assert all(e["source"] == "kcna" for e in logs)
    assert logs[2]["reason"] == "410 Gone" and logs[3]["reason"] == "busy"
