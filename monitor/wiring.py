"""Build the stages from settings: the one place that turns config into objects.

Every stage validates its own part of the config at start; problems from all of
them are gathered into one `ConfigError`, so `check-config` reports them together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from connectors.poller import FeedPoller, PollResult
from monitor.clean import Cleaner
from monitor.config import ConfigError, ConfigProblem, Settings, SourceSettings
from monitor.filters import RelevanceFilter
from monitor.model import Decision, Rejected
from monitor.observe import Metrics
from monitor.pipeline import DecisionHook, Pipeline
from monitor.publish import Publisher
from monitor.publish.kafka import KafkaSink
from monitor.publish.outbox import Outbox

DEFERRED = "deferred:"
"""Error prefix of a poll that was held back (the host asked us to wait): not a failure."""

T = TypeVar("T")


@dataclass
class Stages:
    """The configured stages of one pipeline."""

    cleaner: Cleaner
    relevance: RelevanceFilter | None

    def close(self) -> None:
        """Release what the stages hold (the HTML extraction process)."""
        self.cleaner.close()


def _collect(problems: list[ConfigProblem], build: Callable[[], T]) -> T | None:
    try:
        return build()
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def build_stages(settings: Settings, no_filter: bool = False) -> Stages:
    """Build every stage; raise one `ConfigError` listing all their problems."""
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
        raise ConfigError(problems)
    return Stages(cleaner=cleaner, relevance=None if no_filter else relevance)


class MeteredPoller(FeedPoller):
    """The feed poller, with each fetch's latency and outcome counted in the metrics."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        super().__init__(settings, settings.state_path)
        self.metrics = metrics

    def fetch(self, source: SourceSettings) -> PollResult:
        """Fetch one feed and record how long it took and whether it failed."""
        feed_id = f"feed:{source.name}"
        with self.metrics.time_fetch(source.name) as record:
            result = super().fetch(source)
            record.ok = not any(
                isinstance(i, Rejected)
                and i.input_id == feed_id
                and not i.error.startswith(DEFERRED)
                for i in result.items
            )
        return result


@dataclass
class Worker:
    """Everything `news-monitor run` runs, built from the settings."""

    settings: Settings
    stages: Stages
    metrics: Metrics
    publisher: Publisher
    pipeline: Pipeline
    poller: MeteredPoller

    def close(self) -> None:
        """Close what the worker opened (the publisher is closed by its user)."""
        self.poller.close()
        self.stages.close()


def build_worker(settings: Settings, hooks: tuple[DecisionHook, ...] = ()) -> Worker:
    """Build stages, publisher (Kafka through the outbox), pipeline and feed poller."""
    stages = build_stages(settings)
    metrics = Metrics()
    topics = [rule.topic for rule in settings.filters.rules if rule.topic]
    outbox = Outbox(settings.state_path, settings.state.outbox_max_messages)
    metrics.outbox_capacity.set(settings.state.outbox_max_messages)
    publisher = Publisher(
        lambda: KafkaSink(settings.kafka, topics=topics),
        outbox,
        on_ack=metrics.publish_seconds.observe,
    )

    def count(decision: Decision) -> None:
        metrics.record_decision(decision.outcome)

    pipeline = Pipeline(
        settings,
        publisher,
        cleaner=stages.cleaner,
        relevance=stages.relevance,
        hooks=(count, *hooks),
    )
    return Worker(settings, stages, metrics, publisher, pipeline, MeteredPoller(settings, metrics))
