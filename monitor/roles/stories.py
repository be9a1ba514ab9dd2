"""`news-monitor run --role stories`: dedup and publishing for items from the fetch tier.

Every stories instance is a member of the consumer group `<group_prefix>-stories` over
the items topic (one partition): one member holds it and is active, the others stand
by. On every assignment the active member starts from an empty state and rebuilds it
from the last window of the stories topic (`rebuild.py`, `restore.py`), then decides
items from the group's committed offset. The offset of a batch is committed only once
Kafka has acknowledged every message of its decisions; so after a crash the next
active member decides again only items whose messages may be missing, and its rebuilt
identity layer turns those that were published after all into duplicates: nothing is
lost and no story is created twice. Its state (dedup index, outbox) is in memory.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterable
from types import FrameType

import structlog
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from monitor.clean import Cleaner
from monitor.config import Settings
from monitor.dedup import Deduplicator
from monitor.filters import RelevanceFilter
from monitor.model import Article, Decision, Outcome, Relevance
from monitor.observe import Metrics, Readiness, start_observe
from monitor.pipeline import BATCH_SIZE, Pipeline
from monitor.publish import Publisher
from monitor.publish.items import ItemDecodeError, decode_item
from monitor.publish.kafka import client_options
from monitor.roles.handoff import deadletter_message
from monitor.roles.rebuild import RebuildError, read_window, window_start
from monitor.roles.restore import restore
from monitor.roles.topics import ensure_role_topics, wait_for_metadata
from monitor.state import connect, transaction
from monitor.wiring import Stages, build_pipeline, dedup_topic, kafka_publisher

log = structlog.get_logger("monitor.roles.stories")

POLL_MS = 500
MAX_POLL_INTERVAL_MS = 30 * 60 * 1000
"""How long the active member may go between polls (a take-over's rebuild, Kafka away
while a batch waits for its acknowledgements) before the group counts it as stuck."""


class StoryTier:
    """The active member's state for one assignment: dedup and outbox in memory."""

    def __init__(
        self,
        settings: Settings,
        cleaner: Cleaner,
        relevance: RelevanceFilter | None,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        state = connect(":memory:")
        dedup = Deduplicator.on_connection(settings.dedup, state, dedup_topic(relevance))
        # The pipeline takes each item's verdict from the fetch tier; the filters are
        # there as in the daemon (`filters.rules: []` passes everything either way).
        self.stages = Stages(cleaner=cleaner, relevance=relevance, dedup=dedup, state=state)
        self.publisher: Publisher = kafka_publisher(settings, self.stages, metrics)

        def count(decision: Decision) -> None:
            metrics.record_decision(decision.outcome)

        self.pipeline: Pipeline = build_pipeline(
            settings, self.stages, self.publisher, hooks=(count,)
        )

    def rebuild(self) -> None:
        """Restore the dedup state from the stories topic's last window."""
        started, cpu = time.monotonic(), time.process_time()
        since = window_start(self.settings)
        with transaction(self.stages.state):
            report = restore(self.stages.dedup, read_window(self.settings, since))
        log.info(
            "stories.rebuilt",
            since=since.isoformat(),
            messages=report.messages,
            restored=report.restored,
            repeats=report.repeats,
            skipped=report.skipped,
            seconds=round(time.monotonic() - started, 3),
            cpu_seconds=round(time.process_time() - cpu, 3),
        )

    def close(self) -> None:
        """Close the producer and drop the state."""
        self.publisher.close(timeout=5.0)
        self.stages.dedup.close()
        self.stages.state.close()


class Membership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Notes every assignment change; the main loop acts on it between polls."""

    def __init__(self) -> None:
        self.changed = False
        self.partitions: frozenset[TopicPartition] = frozenset()

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Give the items topic up: the state goes with it."""
        self.partitions, self.changed = frozenset(), True

    def on_partitions_lost(self, lost: Iterable[TopicPartition]) -> None:
        """Evicted from the group: the same as a revoke."""
        self.partitions, self.changed = frozenset(), True

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        """Take the items topic (maybe nothing: stand by)."""
        self.partitions, self.changed = frozenset(assigned), True


def decode_batch(
    tier: StoryTier, records: Iterable[ConsumerRecord]
) -> list[tuple[Article, Relevance]]:
    """The batch's items; a value that is no item goes to the dead-letter topic, logged."""
    items: list[tuple[Article, Relevance]] = []
    topic = tier.settings.roles.items_topic
    for record in records:
        try:
            item = decode_item(record.value or b"")
        except ItemDecodeError as exc:
            input_id = f"{topic}@{record.offset}"
            log.warning(
                "item.decided", input_id=input_id, decision=Outcome.REJECTED.value, reason=str(exc)
            )
            dead = deadletter_message(
                tier.settings.kafka.deadletter_topic, input_id, topic, str(exc)
            )
            tier.publisher.publish([dead])
            continue
        items.append((item.article, item.relevance))
    return items


class StoriesMember:
    """One stories instance: active while it holds the items topic, else standing by."""

    def __init__(
        self,
        settings: Settings,
        cleaner: Cleaner,
        relevance: RelevanceFilter | None,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.cleaner = cleaner
        self.relevance = relevance
        self.metrics = metrics
        self.tier: StoryTier | None = None
        self.membership = Membership()
        self.stopping = threading.Event()

    def stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        """Ask the member to stop (signal handler)."""
        if not self.stopping.is_set():
            log.info("stories.stopping", signal=signum)
        self.stopping.set()

    def run(self) -> int:
        """Consume the items topic until stopped."""
        roles = self.settings.roles
        consumer = KafkaConsumer(
            **client_options(self.settings.kafka),
            group_id=f"{roles.group_prefix}-stories",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=BATCH_SIZE,
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
            session_timeout_ms=roles.session_timeout_ms,
            heartbeat_interval_ms=roles.heartbeat_interval_ms,
        )
        wait_for_metadata(consumer, roles.items_topic)
        consumer.subscribe([roles.items_topic], listener=self.membership)
        log.info("stories.started", group=f"{roles.group_prefix}-stories")
        try:
            while not self.stopping.is_set():
                batch = consumer.poll(timeout_ms=POLL_MS)
                if self.membership.changed:
                    try:
                        self._take_over()
                    except (RebuildError, KafkaError) as exc:
                        # Deciding without the published stories would create them again:
                        # leave the group instead, so another member takes over.
                        log.error("stories.rebuild_failed", error=f"{type(exc).__name__}: {exc}")
                        return 1
                if self.tier is None:
                    continue
                for tp, records in batch.items():
                    if not self._decide(tp, records, consumer):
                        break
                self.tier.publisher.tick()
        finally:
            consumer.close(autocommit=False)  # leave the group: a standby takes over now
            if self.tier is not None:
                self.tier.close()
            log.info("stories.stopped")
        return 0

    def _take_over(self) -> None:
        self.membership.changed = False
        if self.tier is not None:
            self.tier.close()
            self.tier = None
        if not self.membership.partitions:
            log.info("stories.standby")
            return
        tier = StoryTier(self.settings, self.cleaner, self.relevance, self.metrics)
        try:
            tier.rebuild()
        except BaseException:
            tier.close()
            raise
        tier.publisher.start()
        self.tier = tier
        log.info("stories.active", partitions=len(self.membership.partitions))

    def _decide(
        self, tp: TopicPartition, records: list[ConsumerRecord], consumer: KafkaConsumer
    ) -> bool:
        """Decide one batch, wait for Kafka to acknowledge it, commit; False if stopped."""
        assert self.tier is not None
        tier = self.tier
        tier.pipeline.process_articles(decode_batch(tier, records))
        tier.publisher.flush(timeout=self.settings.kafka.delivery_timeout_s)
        while tier.publisher.pending():
            # Not durable yet: the offset stays where it is (a stop now leaves the
            # batch to the next active member, whose rebuild knows what got out).
            if self.stopping.is_set():
                return False
            tier.publisher.tick()
            time.sleep(0.5)
        try:
            consumer.commit({tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)})
        except KafkaError as exc:
            # Evicted meanwhile (the next poll says so): the decisions are out already,
            # and whoever decides these items again restores them as duplicates.
            log.warning("stories.commit_failed", error=f"{type(exc).__name__}: {exc}")
        return True


def run_stories(settings: Settings, cleaner: Cleaner, relevance: RelevanceFilter | None) -> int:
    """Run a stories instance until SIGTERM/SIGINT."""
    ensure_role_topics(settings)
    metrics = Metrics()
    member = StoriesMember(settings, cleaner, relevance, metrics)
    signal.signal(signal.SIGTERM, member.stop)
    signal.signal(signal.SIGINT, member.stop)
    readiness = Readiness()
    readiness.add("kafka_reachable", lambda: member.tier is None or member.tier.publisher.healthy)
    server = start_observe(settings.observe, metrics, readiness)
    if server is not None:
        log.info("observe.started", url=server.url)
    try:
        return member.run()
    finally:
        if server is not None:
            server.stop()
