"""Running the worker: once through every source (`run --once`), or as the daemon (`run`)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from itertools import chain

import structlog
from prometheus_client import Gauge

from connectors.poller import is_deferred
from connectors.replay import ReplayConnector
from monitor.daemon import Daemon, Source, Submit
from monitor.inbox import Inbox
from monitor.model import Outcome, RawItem, Rejected
from monitor.observe import Readiness, start_observe
from monitor.pipeline import BATCH_SIZE, batched
from monitor.scheduler import FeedSource
from monitor.wiring import Worker

log = structlog.get_logger("monitor.service")

EXIT_OK, EXIT_FAIL = 0, 1


def run_once(worker: Worker) -> int:
    """Poll every source once, run the pipeline, flush.

    Exit 1 if a source failed or an item was rejected, or if Kafka kept messages back.
    """
    settings = worker.settings
    counts: Counter[str] = Counter()
    worker.publisher.start()
    items: list[Iterable[RawItem | Rejected]] = [worker.poller.poll_once()]
    items += [
        ReplayConnector([settings.resolve(r.path)], r.name, settings.clean.max_input_bytes).items()
        for r in settings.replay
    ]
    wanted = (item for item in chain.from_iterable(items) if not _deferred(item))
    for batch in batched(wanted, BATCH_SIZE):
        for decision in worker.pipeline.process_many(batch):
            counts[decision.outcome.value] += 1
    worker.publisher.flush(timeout=settings.kafka.delivery_timeout_s)
    pending = worker.publisher.pending()
    worker.publisher.close()
    summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no items"
    print(f"run --once: {sum(counts.values())} items: {summary}", file=sys.stderr)
    if pending:
        print(f"run --once: {pending} messages wait in the outbox for Kafka", file=sys.stderr)
        return EXIT_FAIL
    if worker.publisher.outbox is None and worker.publisher.failures:  # a dry-run sink
        error = worker.publisher.last_error
        print(
            f"run --once: writing to --sink failed ({error}); messages are missing from it",
            file=sys.stderr,
        )
        return EXIT_FAIL
    return EXIT_FAIL if counts[Outcome.REJECTED.value] else EXIT_OK


def _deferred(item: RawItem | Rejected) -> bool:
    """A poll held back because the host asked us to wait: logged, not a decision."""
    if is_deferred(item):
        log.info("feed.deferred", source=item.source, reason=item.error)
        return True
    return False


class SkipDeferred:
    """A daemon source that drops deferred polls (nothing was fetched) before the pipeline."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def start(self, submit: Submit) -> None:
        """Start the wrapped source, passing on everything but deferred polls."""
        self.source.start(lambda item: None if _deferred(item) else submit(item))

    def shutdown(self) -> None:
        """Stop the wrapped source."""
        self.source.shutdown()


def announce_config(worker: Worker) -> dict[str, int]:
    """Log the config's warnings once, loudly, and export what is polled; return the counts.

    A daemon with nothing to poll idles: say so at start, and show it on /metrics as
    `news_monitor_sources_configured{kind="feed"|"replay"}` (0 and 0).
    """
    settings = worker.settings
    counts = {"feeds": len(settings.sources), "replay": len(settings.replay)}
    configured = Gauge(
        "news_monitor_sources_configured",
        "Sources in the configuration, by kind (0 and 0: the daemon polls nothing).",
        ["kind"],
        registry=worker.metrics.registry,
    )
    configured.labels(kind="feed").set(counts["feeds"])
    configured.labels(kind="replay").set(counts["replay"])
    for warning in settings.warnings:
        log.warning("config.warning", origin=warning.file, key=warning.key, reason=warning.reason)
    if not any(counts.values()):
        log.warning(
            "daemon.nothing_to_poll",
            config=settings.config_file,
            hint="add feeds under `sources:` (or `news-monitor sources import FILE.opml`),"
            " or replay folders under `replay:`",
        )
    return counts


def run_daemon(worker: Worker) -> int:
    """Run scheduler, pipeline and sink until SIGTERM/SIGINT."""
    settings, metrics, publisher = worker.settings, worker.metrics, worker.publisher
    counts = announce_config(worker)
    inbox = Inbox(settings.state_path)

    def on_tick() -> None:
        metrics.outbox_depth.set(publisher.pending())
        metrics.items_in_flight.set(daemon.queued)
        worker.stages.checkpoint()

    daemon = Daemon(
        worker.pipeline, publisher, inbox, on_tick=on_tick, on_full=metrics.outbox_full.inc
    )

    readiness = Readiness()
    readiness.add("state_open", lambda: worker.stages.is_open)
    readiness.add("kafka_reachable", lambda: publisher.healthy)
    server = start_observe(settings.observe, metrics, readiness)
    if server is not None:
        log.info("observe.started", url=server.url)
    try:
        feeds = FeedSource(
            settings,
            worker.poller,
            on_lag=lambda _feed, seconds: metrics.poll_lag_seconds.observe(seconds),
            on_skip=lambda feed: metrics.polls_skipped.labels(feed=feed).inc(),
        )
        return daemon.run([SkipDeferred(feeds)], counts=counts)
    finally:
        if server is not None:
            server.stop()
