"""Running the worker: the one loop of `run --once` and `replay`, and the daemon (`run`)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from prometheus_client import Gauge

from connectors.replay import ReplayConnector
from monitor.daemon import Daemon
from monitor.feedhealth import report_poll
from monitor.inbox import Inbox
from monitor.model import Outcome, RawItem, Rejected
from monitor.observe import Readiness, start_observe
from monitor.pipeline import BATCH_SIZE, Pipeline, batched
from monitor.pooled import Batch
from monitor.publish.outbox import OutboxFull
from monitor.scheduler import SourceScheduler
from monitor.wiring import Worker

log = structlog.get_logger("monitor.service")

EXIT_OK, EXIT_FAIL = 0, 1


@dataclass
class RunReport:
    """What one pass (`run --once`, `replay`) came to, for its summary and exit code."""

    command: str
    state_path: Path
    decisions: Counter[str] = field(default_factory=Counter)
    polls: Counter[str] = field(default_factory=Counter)
    """Feed polls by outcome (`run --once` only)."""
    failed_sources: list[str] = field(default_factory=list)
    """`name: error` of every feed that failed or is retired."""
    stopped: str | None = None
    """Why the pass stopped before the end (the outbox was full), if it did."""
    pending: int = 0
    kafka_error: str | None = None
    """Why Kafka kept messages back (with `pending`)."""
    sink_error: str | None = None
    """A dry-run sink that failed while writing: what went wrong."""
    sink: str = "kafka"

    def lines(self) -> list[str]:
        """The summary lines printed on stderr."""
        failed = [f"{self.command}: feed {failed}" for failed in self.failed_sources]
        if self.stopped is not None:
            return [f"{self.command}: stopped: {self.stopped}", *failed]
        text = ", ".join(f"{k}={v}" for k, v in sorted(self.decisions.items())) or "no items"
        out = [f"{self.command}: {sum(self.decisions.values())} items: {text}"]
        if self.polls:
            polls = ", ".join(f"{k}={v}" for k, v in sorted(self.polls.items()))
            out.append(f"{self.command}: {sum(self.polls.values())} feeds polled: {polls}")
        out += failed
        if self.sink_error is not None:
            out.append(
                f"{self.command}: --sink {self.sink}: writing failed ({self.sink_error});"
                " messages are missing from it"
            )
        if self.pending:
            out.append(
                f"{self.command}: {self.pending} messages not acknowledged ({self.kafka_error});"
                f" they stay in the outbox {self.state_path} and are sent on the next run"
            )
        return out

    @property
    def exit_code(self) -> int:
        """1 if anything failed: a rejected item or source, a message kept back, the sink."""
        failed = (
            self.stopped is not None
            or self.pending
            or self.sink_error is not None
            or self.failed_sources
            or self.decisions[Outcome.REJECTED.value]
        )
        return EXIT_FAIL if failed else EXIT_OK


def run_pass(
    worker: Worker, items: Iterable[RawItem | Rejected], report: RunReport, dry_run: bool
) -> RunReport:
    """Decide every item in batches (group commits), then flush the publisher and close it."""
    publisher = worker.publisher
    publisher.start()
    try:
        for batch, started in started_ahead(worker.pipeline, batched(items, BATCH_SIZE)):
            for decision in worker.pipeline.process_many(batch, started):
                report.decisions[decision.outcome.value] += 1
        publisher.flush(timeout=worker.settings.kafka.delivery_timeout_s)
        report.pending = publisher.pending()
        report.kafka_error = publisher.last_error
        if dry_run and publisher.failures:
            report.sink_error = publisher.last_error
    except OutboxFull as exc:
        report.stopped = f"{exc}; Kafka: {publisher.last_error}"
    finally:
        publisher.close()
    return report


def started_ahead(
    pipeline: Pipeline, batches: Iterable[list[RawItem | Rejected]]
) -> Iterator[tuple[list[RawItem | Rejected], Batch | None]]:
    """Each batch with its work started in the worker processes, one batch ahead.

    The workers prepare the next batch while this process decides the current one.
    """
    if pipeline.preparer is None:  # no workers: nothing to start ahead
        yield from ((batch, None) for batch in batches)
        return
    ahead: tuple[list[RawItem | Rejected], Batch | None] | None = None
    for batch in batches:
        started = (batch, pipeline.start(batch))
        if ahead is not None:
            yield ahead
        ahead = started
    if ahead is not None:
        yield ahead


def source_items(worker: Worker, report: RunReport) -> Iterator[RawItem | Rejected]:
    """Every configured source once: each feed's poll reported, then the replay folders."""
    settings = worker.settings
    if worker.poller is not None:
        for outcome in worker.poller.poll_once():
            report_poll(outcome, worker.metrics)
            report.polls[outcome.status.value] += 1
            if outcome.failed:
                report.failed_sources.append(f"{outcome.name} failed: {outcome.error}")
            yield from worker.poller.deliver(outcome)
    for replay in settings.replay:
        path = settings.resolve(replay.path)
        yield from ReplayConnector([path], replay.name, settings.clean.max_input_bytes).items()


def print_report(report: RunReport) -> int:
    """Print the summary on stderr; return the exit code."""
    for line in report.lines():
        print(line, file=sys.stderr)
    return report.exit_code


def run_once(worker: Worker, dry_run: bool = False, sink: str = "kafka") -> int:
    """Poll every source once, run the pipeline, flush.

    Exit 1 if a source failed or an item was rejected, or if Kafka kept messages back.
    """
    report = RunReport("run --once", worker.settings.state_path, sink=sink)
    return print_report(run_pass(worker, source_items(worker, report), report, dry_run))


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


def feed_scheduler(worker: Worker, sources: Collection[str] | None = None) -> SourceScheduler:
    """The scheduler of the worker's feed poller, reporting to its metrics.

    `sources`: the names to schedule at start (None: every configured source)."""
    if worker.poller is None:
        raise ValueError("the daemon needs a worker built with its feed poller")
    metrics = worker.metrics
    return SourceScheduler(
        worker.settings,
        worker.poller,
        on_poll=lambda outcome: report_poll(outcome, metrics),
        on_lag=lambda _feed, seconds: metrics.poll_lag_seconds.observe(seconds),
        on_skip=lambda feed: metrics.polls_skipped.labels(feed=feed).inc(),
        sources=sources,
    )


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
        return daemon.run([feed_scheduler(worker)], counts=counts)
    finally:
        if server is not None:
            server.stop()
