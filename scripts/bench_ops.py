"""Benchmark the ops layer: JSON log lines per second (with redaction) and /metrics scrapes.

Run by hand: `python scripts/bench_ops.py [--lines N] [--feeds N] [--scrapes N]`.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import LogSettings, ObserveSettings
from monitor.logging import configure_logging, get_logger
from monitor.observe import Metrics, ObserveServer, Readiness

TEXT = (
    "North Korean troops have been deployed to Russia's Kursk region, "
    "according to Ukrainian and South Korean intelligence. "
) * 8  # ~1 KB, a long field such as a title plus summary


def bench_logging(n: int) -> None:
    for label, extra in (("short fields", {}), ("with a 1 KB text field", {"summary": TEXT})):
        out = io.StringIO()
        configure_logging(LogSettings(format="json"), stream=out)
        log = get_logger("bench")
        started = time.perf_counter()
        for i in range(n):
            log.info("decided", feed="yonhap", item_id=f"{i:016x}", decision="published", **extra)
        took = time.perf_counter() - started
        print(f"logging, {label}: {n / took:,.0f} lines/s ({took / n * 1e6:.1f} us/line)")
    logging.getLogger().handlers.clear()


def bench_scrape(feeds: int, scrapes: int) -> None:
    metrics = Metrics()
    for f in range(feeds):
        metrics.observe_fetch(f"feed-{f:04d}", 0.2, ok=f % 10 != 0)
    for outcome in ("published", "duplicate", "filtered", "rejected"):
        metrics.record_decision(outcome)
    readiness = Readiness()
    readiness.add("state_open", lambda: True)
    with ObserveServer(ObserveSettings(port=0), metrics, readiness) as srv:
        url = srv.url + "/metrics"
        size = len(urllib.request.urlopen(url, timeout=5).read())
        started = time.perf_counter()
        for _ in range(scrapes):
            urllib.request.urlopen(url, timeout=5).read()
        took = time.perf_counter() - started
    print(
        f"/metrics with {feeds} feeds: {size / 1024:.0f} KiB, "
        f"{took / scrapes * 1e3:.1f} ms per scrape (mean of {scrapes})"
    )


def main() -> None:
    """Run both benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args()
    bench_logging(args.lines)
    bench_scrape(args.feeds, args.scrapes)


if __name__ == "__main__":
    main()
