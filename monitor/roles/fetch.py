"""`news-monitor run --role fetch`: poll this instance's share of the sources.

Every fetch instance is a member of the consumer group `<group_prefix>-fetch` over the
coordination topic (`roles.fetch_partitions` partitions, no messages). The group's
assignment decides which sources each instance polls (`SourceOwnership`); when an
instance joins, leaves or dies, the group rebalances: every member first stops its
sources (and waits for their running polls), then schedules its new share. Each
fetched, cleaned, filtered item goes to the items topic (`ItemHandOff`). Feed state
(ETag, entries seen), inbox and outbox stay in the instance's own state database; an
entry fetched again by a new owner is collapsed by the story tier's identity layer.
Replay folders are not run by fetch instances (a warning at start says so).
"""

from __future__ import annotations

import os
import socket
import threading

import structlog
from kafka import KafkaConsumer

from monitor.config import Settings
from monitor.daemon import Daemon, Submit
from monitor.inbox import Inbox
from monitor.model import Decision
from monitor.observe import Readiness, start_observe
from monitor.publish.kafka import client_options
from monitor.roles.handoff import ItemHandOff
from monitor.roles.ownership import SourceOwnership
from monitor.roles.topics import coordination_topic, ensure_role_topics, wait_for_metadata
from monitor.scheduler import SourceScheduler
from monitor.service import announce_config, feed_scheduler
from monitor.wiring import Worker

log = structlog.get_logger("monitor.roles.fetch")

POLL_MS = 500
"""How long one consumer poll of the (empty) coordination topic waits."""


def instance_name(settings: Settings) -> str:
    """This instance's name: `roles.instance_id`, else host name and process id."""
    return settings.roles.instance_id or f"{socket.gethostname()}-{os.getpid()}"


class FetchGroup:
    """The daemon's `Source` for a fetch instance: group membership plus its scheduler."""

    def __init__(self, settings: Settings, schedule: SourceScheduler, wait_s: float) -> None:
        self.settings = settings
        self.schedule = schedule
        self.wait_s = wait_s
        """How long a revoke waits for the running polls of the sources it takes away."""
        names = [s.name for s in settings.sources]
        self.ownership = SourceOwnership(names, settings.roles.fetch_partitions, self._moved)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _moved(self, added: frozenset[str], removed: frozenset[str]) -> None:
        # On the consumer's event loop: the member rejoins only when this returns, so a
        # source taken away has no poll running when another member gets it (unless a
        # poll outlasts `wait_s`, which is logged). Scheduler calls are quick.
        for name in removed:
            self.schedule.remove_source(name)
        if removed and not self.schedule.wait_idle(removed, self.wait_s):
            log.warning("fetch.revoke_timeout", waited_s=self.wait_s)
        for name in sorted(added):
            self.schedule.add_source(name)
        log.info(
            "fetch.assignment",
            owned=len(self.ownership.owned()),
            added=len(added),
            removed=len(removed),
        )

    def start(self, submit: Submit) -> None:
        """Start the scheduler (with no sources) and join the fetch group."""
        self.schedule.start(submit)
        self._thread = threading.Thread(target=self._member, name="fetch-group", daemon=True)
        self._thread.start()

    def _member(self) -> None:
        roles = self.settings.roles
        consumer = KafkaConsumer(
            **client_options(self.settings.kafka),
            group_id=f"{roles.group_prefix}-fetch",
            enable_auto_commit=False,
            session_timeout_ms=roles.session_timeout_ms,
            heartbeat_interval_ms=roles.heartbeat_interval_ms,
        )
        wait_for_metadata(consumer, coordination_topic(self.settings))
        consumer.subscribe([coordination_topic(self.settings)], listener=self.ownership)
        try:
            while not self._stop.is_set():
                try:
                    consumer.poll(timeout_ms=POLL_MS)
                except Exception as exc:  # a broker outage: stay a member, try again
                    log.warning("fetch.group_poll_failed", error=f"{type(exc).__name__}: {exc}")
                    self._stop.wait(1.0)
        finally:
            # Leaving the group at once hands this instance's sources to the others.
            consumer.close(autocommit=False)

    def shutdown(self) -> None:
        """Stop scheduling and leave the group."""
        self.schedule.shutdown()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def run_fetch(worker: Worker) -> int:
    """Run a fetch instance until SIGTERM/SIGINT."""
    settings, metrics, publisher = worker.settings, worker.metrics, worker.publisher
    if worker.poller is None:
        raise ValueError("a fetch instance needs a worker built with its feed poller")
    ensure_role_topics(settings)
    counts = announce_config(worker)
    if settings.replay:
        log.warning(
            "fetch.replay_not_run",
            folders=[r.name for r in settings.replay],
            hint="fetch instances poll feeds only; replay folders run under `news-monitor run`"
            " or `news-monitor replay`",
        )
    log.info("fetch.instance", instance=instance_name(settings))

    def count(decision: Decision) -> None:
        metrics.record_decision(decision.outcome)

    handoff = ItemHandOff(
        settings.roles.items_topic,
        settings.kafka.deadletter_topic,
        publisher,
        worker.stages.cleaner,
        worker.stages.relevance,
        worker.stages.state,
        hooks=(count,),
    )
    schedule = feed_scheduler(worker, sources=())
    # The revoke callback runs on the consumer's event loop, which also heartbeats: it may
    # wait for running polls only well within the session timeout.
    wait_s = min(
        settings.http.connect_timeout_s + settings.http.read_timeout_s,
        settings.roles.session_timeout_ms / 2000,
    )
    group = FetchGroup(settings, schedule, wait_s)

    def on_tick() -> None:
        metrics.outbox_depth.set(publisher.pending())
        metrics.items_in_flight.set(daemon.queued)
        worker.stages.checkpoint()

    daemon = Daemon(
        handoff,
        publisher,
        Inbox(settings.state_path),
        on_tick=on_tick,
        on_full=metrics.outbox_full.inc,
    )
    readiness = Readiness()
    readiness.add("state_open", lambda: worker.stages.is_open)
    readiness.add("kafka_reachable", lambda: publisher.healthy)
    readiness.add("group_joined", group.ownership.assigned.is_set)
    server = start_observe(settings.observe, metrics, readiness)
    if server is not None:
        log.info("observe.started", url=server.url)
    try:
        return daemon.run([group], counts=counts)
    finally:
        if server is not None:
            server.stop()
