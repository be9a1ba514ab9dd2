"""The composition root: the one place that turns settings into a worker.

`build_worker` builds what `run`, `run --once` and `replay` run: the stages, the
metrics, the publisher, the pipeline and (for `run`) the feed poller. Every stage
validates its own part of the config at start; problems from all of them are
gathered into one `ConfigError`, so `check-config` reports them together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import structlog

from connectors.feeds import parse_feed
from connectors.poller import FeedPoller
from monitor.clean import Cleaner
from monitor.clean.template_state import TemplateState
from monitor.config import ConfigError, ConfigProblem, Settings
from monitor.dedup import Deduplicator
from monitor.filters import RelevanceFilter
from monitor.lock import StateLock
from monitor.model import Decision
from monitor.observe import Metrics
from monitor.pipeline import DecisionHook, Pipeline
from monitor.pooled import FeedParse, Preparer, start_pool
from monitor.publish import Publisher
from monitor.publish.kafka import KafkaSink
from monitor.publish.outbox import Outbox
from monitor.state import connect
from monitor.workpool import WorkPool

T = TypeVar("T")
log = structlog.get_logger("monitor.wiring")


@dataclass
class Stages:
    """The configured stages of one pipeline, and the state connection they share."""

    cleaner: Cleaner
    relevance: RelevanceFilter | None
    dedup: Deduplicator
    state: sqlite3.Connection
    templates: TemplateState | None = None
    """Where the learned templates are saved (None: state in memory)."""
    is_open: bool = True
    """False once closed (readiness)."""
    lock: StateLock | None = None
    """The state database's lock (None: state in memory)."""

    def checkpoint(self, force: bool = False) -> None:
        """Save what the template learner learned, when the save interval is due.

        A failed save is logged and the worker goes on: templates are statistics, and
        what was not saved is saved with the next change or learned again.
        """
        if self.templates is None:
            return
        try:
            saved = self.templates.save(self.cleaner.templates, force=force)
        except sqlite3.Error as exc:
            log.warning("templates.save_failed", error=f"{type(exc).__name__}: {exc}")
            return
        if saved:
            log.debug("templates.saved", sources=saved)

    def close(self) -> None:
        """Release what the stages hold (the HTML extraction process, the state database)."""
        self.is_open = False
        self.checkpoint(force=True)
        self.cleaner.close()
        self.dedup.close()
        self.state.close()
        if self.lock is not None:
            self.lock.release()


def _collect(problems: list[ConfigProblem], build: Callable[[], T]) -> T | None:
    try:
        return build()
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def dedup_topic(relevance: RelevanceFilter | None, no_filter: bool = False) -> tuple[str, ...]:
    """The words every item the story layer sees holds: the forms the relevance rules
    require (none when filtering is off), logged once so an operator can see them."""
    topic = relevance.topic_forms() if relevance is not None and not no_filter else ()
    if topic:
        log.info("dedup.topic_words", count=len(topic), forms=list(topic))
    return topic


def build_stages(
    settings: Settings, no_filter: bool = False, state_path: Path | None = None
) -> Stages:
    """Build every stage; raise one `ConfigError` listing all their problems.

    `state_path` None keeps the state in memory (for `check-config` and `inspect`).
    """
    problems: list[ConfigProblem] = []
    cleaner = _collect(problems, lambda: Cleaner.from_settings(settings.clean, settings.config_dir))
    relevance = _collect(
        problems,
        lambda: RelevanceFilter.from_settings(
            settings.filters, settings.config_dir, settings.config_file
        ),
    )
    if problems or cleaner is None:
        if cleaner is not None:
            cleaner.close()
        raise ConfigError(settings.blame(problems))
    lock = None
    if state_path:
        # One worker per state database: its outbox and dedup index are not to be shared.
        try:
            lock = StateLock.acquire(state_path, settings.origin("state.path"))
        except ConfigError:
            cleaner.close()
            raise
        except OSError as exc:
            cleaner.close()
            reason = f"cannot open the state database {state_path}: {exc}"
            raise ConfigError(
                [ConfigProblem(file=settings.origin("state.path"), key="state.path", reason=reason)]
            ) from None
    try:
        state = connect(state_path or ":memory:")
    except (OSError, sqlite3.Error) as exc:
        cleaner.close()
        if lock is not None:
            lock.release()
        reason = f"cannot open the state database {state_path}: {exc}"
        raise ConfigError(
            [ConfigProblem(file=settings.origin("state.path"), key="state.path", reason=reason)]
        ) from None
    dedup = Deduplicator.on_connection(settings.dedup, state, dedup_topic(relevance, no_filter))
    templates = None
    if state_path:
        templates = TemplateState(state, settings.clean.template_save_s)
        templates.load(cleaner.templates)
    return Stages(
        cleaner=cleaner,
        relevance=None if no_filter else relevance,
        dedup=dedup,
        state=state,
        templates=templates,
        lock=lock,
    )


def build_pipeline(
    settings: Settings,
    stages: Stages,
    publisher: Publisher,
    hooks: tuple[DecisionHook, ...] = (),
    pool: WorkPool | None = None,
) -> Pipeline:
    """Join the stages, in the pipeline's order, to a publisher (drafts in `pool`'s workers)."""
    return Pipeline(
        settings,
        publisher,
        cleaner=stages.cleaner,
        dedup=stages.dedup,
        relevance=stages.relevance,
        state=stages.state,
        hooks=hooks,
        preparer=Preparer(pool) if pool is not None and pool.pooled else None,
    )


def kafka_publisher(
    settings: Settings, stages: Stages, metrics: Metrics | None = None
) -> Publisher:
    """A publisher to Kafka through the outbox, which shares the stages' state connection."""
    topics = [rule.topic for rule in settings.filters.rules if rule.topic]
    outbox = Outbox(max_pending=settings.state.outbox_max_messages, connection=stages.state)
    kafka = settings.kafka

    def acked(topic: str, seconds: float) -> None:
        if metrics is not None:
            metrics.messages_published.labels(topic=topic).inc()
            metrics.publish_seconds.observe(seconds)

    def failed(topic: str) -> None:
        if metrics is not None:
            metrics.publish_errors.labels(topic=topic).inc()

    return Publisher(
        lambda: KafkaSink(kafka, topics=topics),
        outbox,
        on_ack=acked,
        on_fail=failed,
        stall_s=kafka.delivery_timeout_s + kafka.request_timeout_s,
    )


@dataclass
class Worker:
    """Everything `run`, `run --once` and `replay` run, built from the settings."""

    settings: Settings
    stages: Stages
    metrics: Metrics
    publisher: Publisher
    pipeline: Pipeline
    poller: FeedPoller | None
    """The feed poller (None for `replay`, which polls no feeds)."""
    pool: WorkPool | None = None
    """The worker processes (None: `worker.processes` is 1, all work in this process)."""

    def close(self) -> None:
        """Close what the worker opened (the publisher is closed by its user)."""
        if self.poller is not None:
            self.poller.close()
        if self.pool is not None:
            self.pool.close()
        self.stages.close()


PublisherFactory = Callable[[Settings, Stages, Metrics], Publisher]


def build_worker(
    settings: Settings,
    publisher_factory: PublisherFactory = kafka_publisher,
    *,
    hooks: tuple[DecisionHook, ...] = (),
    no_filter: bool = False,
    feeds: bool = True,
) -> Worker:
    """Build stages, publisher (Kafka through the outbox by default), pipeline and poller.

    `no_filter` publishes whatever the rules say; `feeds` False builds no feed poller.
    """
    stages = build_stages(settings, no_filter=no_filter, state_path=settings.state_path)
    pool = None
    try:
        metrics = Metrics()
        metrics.outbox_capacity.set(settings.state.outbox_max_messages)
        publisher = publisher_factory(settings, stages, metrics)

        def count(decision: Decision) -> None:
            metrics.record_decision(decision.outcome)

        if settings.worker.processes > 1:
            pool = start_pool(settings, no_filter=no_filter)
            log.info("workers.started", processes=pool.processes, pids=pool.pids())
        pipeline = build_pipeline(settings, stages, publisher, hooks=(count, *hooks), pool=pool)
        poller = None
        if feeds:
            parse = FeedParse(pool) if pool is not None else parse_feed
            poller = FeedPoller(settings, settings.state_path, parse=parse)
    except BaseException:
        if pool is not None:
            pool.close()
        stages.close()
        raise
    return Worker(settings, stages, metrics, publisher, pipeline, poller, pool)
