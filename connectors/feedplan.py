"""When to poll a feed next (pure): the interval, stretched for quiet feeds, backoff.

Used through `FeedState.schedule_next_check`; kept apart from the state's storage.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connectors.http import backoff_seconds
from connectors.polls import PollStatus
from monitor.config import ScheduleSettings

if TYPE_CHECKING:
    from connectors.feedstate import FeedState

JITTER = random.Random()
"""The one random source for poll jitter (seeding a new one per poll costs more than the draw)."""


def plan_next_check(
    state: FeedState,
    *,
    status: PollStatus,
    now: datetime,
    interval_s: float,
    schedule: ScheduleSettings,
    ttl_s: float | None = None,
    max_age_s: float | None = None,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> tuple[datetime, bool]:
    """When to poll next and whether the feed is in the slow lane.

    Healthy feeds: the configured interval, stretched (up to `max_interval_s`) when
    entries appear rarely, and never sooner than the feed's TTL or Cache-Control
    max-age allow. Failing feeds back off exponentially: between 1x and 2x
    `error_backoff_s` after the first error, doubling with each consecutive one (capped
    at `slow_lane_interval_s`) and,
    after `slow_lane_after` consecutive errors, are polled every
    `slow_lane_interval_s`: still polled, never given up. Retry-After is a floor.
    """
    rng = rng or JITTER
    slow = False
    if status is PollStatus.FAILED:
        errors = state.error_count  # already counts this failure
        if errors >= schedule.slow_lane_after:
            slow = True
            delay = schedule.slow_lane_interval_s
        else:
            delay = backoff_seconds(
                errors, schedule.error_backoff_s, schedule.slow_lane_interval_s, rng
            )
    else:
        delay = interval_s
        if state.change_interval_s:
            # Poll about twice per observed change, but not slower than max_interval.
            delay = max(delay, min(schedule.max_interval_s, state.change_interval_s / 2))
        if state.last_change:
            quiet = (now - state.last_change).total_seconds() / 4
            delay = max(delay, min(schedule.max_interval_s, quiet))
        hinted = max(ttl_s or 0.0, max_age_s or 0.0)
        delay = max(delay, min(schedule.max_interval_s, hinted))
    delay += rng.uniform(0, schedule.jitter * delay)
    if retry_after_s:
        delay = max(delay, min(schedule.max_retry_after_s, retry_after_s))
    return now + timedelta(seconds=delay), slow


def record_change_interval(state: FeedState, now: datetime) -> float | None:
    """Update the moving average of the time between polls that found new entries."""
    if state.last_change is None:
        return state.change_interval_s
    gap = (now - state.last_change).total_seconds()
    if state.change_interval_s is None:
        return gap
    return 0.3 * gap + 0.7 * state.change_interval_s
