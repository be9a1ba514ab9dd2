"""`news-monitor feeds`: every polled feed's state as a table for people."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import datetime

from connectors.feedstate import FeedState, load_feed_states
from monitor.exits import EXIT_OK
from monitor.model import utcnow
from monitor.outputs import load


def cmd_feeds(args: argparse.Namespace) -> int:
    """Show every polled feed's state as a table."""
    settings = load(args)
    if not settings.state_path.exists():
        print(f"feeds: no state yet at {settings.state_path} (nothing polled)", file=sys.stderr)
        return EXIT_OK
    sys.stdout.write(render_feed_table(load_feed_states(settings.state_path)) + "\n")
    return EXIT_OK


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    secs = (when - now).total_seconds()
    span = abs(secs)
    text = (
        f"{span:.0f}s"
        if span < 90
        else f"{span / 60:.0f}m"
        if span < 5400
        else f"{span / 3600:.1f}h"
        if span < 172800
        else f"{span / 86400:.0f}d"
    )
    return f"in {text}" if secs > 0 else f"{text} ago"


def _cut(text: str | None, width: int) -> str:
    text = (text or "-").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def render_feed_table(states: Iterable[FeedState], now: datetime | None = None) -> str:
    """A plain-text table of feed states for `news-monitor feeds`."""
    now = now or utcnow()
    header = (
        "NAME",
        "URL",
        "STATUS",
        "LAST SUCCESS",
        "NEXT CHECK",
        "ERRORS",
        "ITEMS",
        "LAST ERROR",
    )
    rows = [header]
    for s in states:
        status = s.status
        next_check = "never (retired)" if s.retired_at else _ago(s.next_check, now)
        rows.append(
            (
                _cut(s.name, 24),
                _cut(s.current_url, 48),
                status,
                _ago(s.last_success, now),
                next_check,
                f"{s.error_count}/{s.total_errors}",
                str(s.items_seen),
                _cut(
                    s.retired_reason or s.last_error if s.error_count or s.retired_at else None, 60
                ),
            )
        )
    if len(rows) == 1:
        return "no feeds polled yet"
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
