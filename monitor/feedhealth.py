"""A feed's health, from its typed poll outcome: the one place it is logged and counted.

Feed health is never an item decision: a failed, deferred or retired poll is a log
line naming the feed and the error, a metric (`news_monitor_feed_polls_total{outcome}`,
`news_monitor_feed_errors_total{feed}`, ...) and the feed's row in `news-monitor feeds`.
"""

from __future__ import annotations

import structlog

from connectors.polls import PollOutcome, PollStatus
from monitor.observe import Metrics

log = structlog.get_logger("monitor.feedhealth")


def report_poll(outcome: PollOutcome, metrics: Metrics | None = None) -> None:
    """Log and count one finished poll."""
    if metrics is not None:
        metrics.record_poll(outcome)
    name, error = outcome.name, str(outcome.error) if outcome.error else None
    errors = outcome.state.error_count if outcome.state is not None else None
    if outcome.status is PollStatus.FAILED:
        kind = outcome.error.kind if outcome.error else None
        log.warning("feed.poll_failed", source=name, error=error, kind=kind, errors=errors)
        if outcome.entered_slow_lane:
            log.warning("feed.slow_lane", source=name, errors=errors, error=error)
    elif outcome.status is PollStatus.RETIRED:
        log.warning("feed.retired", source=name, reason=error)
    elif outcome.status is PollStatus.DEFERRED:
        log.info("feed.deferred", source=name, reason=error)
    else:
        log.debug(
            "feed.polled", source=name, outcome=outcome.status.value, items=len(outcome.items)
        )
