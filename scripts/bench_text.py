"""The text row: synthetic stories replayed through every stage into the local Kafka.

Items/s and read -> ack latency, once with every item on topic (the worst case) and once
with 1 in N on topic; each run's wall time per item by stage; then the publish rows
(bench_publish) on the first run's messages.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from bench_common import DEVNULL, Report, bench_settings, pct, say
from bench_news import NewsGenerator
from bench_publish import _NullSink, bench_publish

from connectors.replay import ReplayConnector
from monitor.config import Settings
from monitor.logging import configure_logging
from monitor.model import RawItem
from monitor.pipeline import BATCH_SIZE
from monitor.publish.kafka import KafkaSink
from monitor.publish.message import OutMessage
from monitor.wiring import build_pipeline, build_stages, kafka_publisher

# --- text replay -------------------------------------------------------------------------------


class StageClock:
    """Wall time spent in each stage of the real pipeline objects (wrapped, not replaced).

    `clock=time.process_time` counts CPU time instead.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.spent: dict[str, float] = {}
        self.clock = clock

    def wrap(self, obj: Any, method: str, label: str) -> None:
        """Time every call of obj.method under `label`."""
        inner = getattr(obj, method)

        clock = self.clock

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = clock()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + clock() - t

        setattr(obj, method, timed)

    def transactions(self) -> Callable[[], None]:
        """Time BEGIN and COMMIT of the pipeline's per-item transaction; return an undo."""
        import monitor.pipeline as pipeline_module

        original = pipeline_module.transaction  # type: ignore[attr-defined]

        @contextlib.contextmanager
        def timed(conn: Any) -> Iterator[None]:
            t = time.perf_counter()
            cm = original(conn)
            cm.__enter__()
            self._add("sqlite BEGIN/COMMIT", t)
            try:
                yield
            except BaseException:
                cm.__exit__(*sys.exc_info())
                raise
            t = time.perf_counter()
            cm.__exit__(None, None, None)
            self._add("sqlite BEGIN/COMMIT", t)

        pipeline_module.transaction = timed  # type: ignore[attr-defined]
        return lambda: setattr(pipeline_module, "transaction", original)

    def _add(self, label: str, since: float) -> None:
        self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - since


def warm_up(settings: Settings, tmp: Path) -> None:
    """Run a few items through a throwaway pipeline: first imports are not an item's cost."""
    from monitor.publish import Publisher
    from monitor.publish.sinks import open_stream_sink

    stages = build_stages(settings, state_path=tmp / "warm.db")
    publisher = Publisher(lambda: open_stream_sink("stdout", None), None)
    publisher.sink = _NullSink()
    pipeline = build_pipeline(settings, stages, publisher)
    gen = NewsGenerator(seed=99)
    for n in range(30):
        obj = gen.article(100_000 + n)
        pipeline.process(
            RawItem(
                input_id=obj["id"],
                source=obj["source"],
                text=obj["text"],
                title=obj["title"],
                url=obj["url"],
            )
        )
    stages.close()


def timed_sink_class() -> type[Any]:
    """The real KafkaSink, also noting each message's ack time (defined late: see imports)."""

    class TimedSink(KafkaSink):
        """The real KafkaSink, also noting when each message was acknowledged."""

        read_at: float = 0.0
        """When the item being processed was read (set by the bench loop)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.started: dict[str, float] = {}
            self.latencies: list[float] = []
            self.sent: list[OutMessage] = []

        def send(self, message: OutMessage) -> None:
            """Note when the message's item was read, then send it as KafkaSink does."""
            self.started[message.message_id] = TimedSink.read_at
            self.sent.append(message)
            super().send(message)

        def _done(self, message_id: str, exc: BaseException | None) -> None:
            begun = self.started.pop(message_id, None)
            if exc is None and begun is not None:
                self.latencies.append(time.perf_counter() - begun)
            super()._done(message_id, exc)

    return TimedSink


@dataclass
class Replay:
    """What one text replay into Kafka measured."""

    count: int
    size: int
    """Bytes of .jsonl replayed."""
    wall: float
    cpu: float
    flush_s: float
    outcomes: dict[str, int]
    latencies: list[float]
    spent: dict[str, float]
    sent: list[OutMessage]
    pending: int

    @property
    def summary(self) -> str:
        """The outcomes, e.g. `filtered 2700, published 300`."""
        return ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))

    def stages(self) -> str:
        """Wall time per item by stage, largest first, with the unaccounted rest."""
        accounted = sum(self.spent.values()) + self.flush_s
        parts = sorted(self.spent.items(), key=lambda kv: -kv[1])
        parts.append(("other (encode, decisions, reading)", max(self.wall - accounted, 0.0)))
        return "; ".join(f"{k} {v / self.count * 1000:.2f} ms" for k, v in parts)


def replay_into_kafka(bootstrap: str, folder: Path, count: int, gen: NewsGenerator) -> Replay:
    """Write `count` stories of `gen` and replay them through every stage into Kafka."""
    data = folder / "news"
    data.mkdir(parents=True)
    now = datetime.now(UTC)
    size = gen.write(data, count, now - timedelta(hours=24), timedelta(seconds=24 * 3600 / count))
    settings = bench_settings(bootstrap, folder / "state.db")
    # Logging as the CLI does it (one JSON line per decision), into /dev/null: the
    # formatting is part of the cost, a terminal's speed is not.
    configure_logging(settings.logging, stream=DEVNULL)
    outcomes: dict[str, int] = {}
    stages = build_stages(settings, state_path=settings.state_path)
    publisher = kafka_publisher(settings, stages)
    topics = [rule.topic for rule in settings.filters.rules if rule.topic]
    TimedSink = timed_sink_class()
    publisher._connect = lambda: TimedSink(settings.kafka, topics=topics)
    publisher.retry_s = float("inf")

    def count_outcome(decision: Any) -> None:
        outcomes[decision.outcome.value] = outcomes.get(decision.outcome.value, 0) + 1

    warm_up(settings, folder)
    pipeline = build_pipeline(settings, stages, publisher, hooks=(count_outcome,))
    clock = StageClock()
    clock.wrap(stages.cleaner, "clean", "clean")
    clock.wrap(stages.dedup, "identity", "dedup identity")
    clock.wrap(stages.dedup, "assign", "dedup assign (story)")
    if stages.relevance is not None:
        clock.wrap(stages.relevance, "evaluate", "filters")
    clock.wrap(publisher, "stage", "publish: outbox put")
    clock.wrap(publisher, "send", "publish: send + settle")
    clock.wrap(pipeline, "_record", "decision log line")
    undo = clock.transactions()
    publisher.start()
    sink = publisher.sink
    assert isinstance(sink, TimedSink)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    # As `news-monitor replay` does it: batches of BATCH_SIZE items, one transaction
    # each (group commit); latency counts from the moment a batch is read.
    items = ReplayConnector([data]).items()
    while True:
        TimedSink.read_at = time.perf_counter()
        batch = list(islice(items, BATCH_SIZE))
        if not batch:
            break
        pipeline.process_many(batch)
    flush0 = time.perf_counter()
    publisher.flush(timeout=60)
    flush_s = time.perf_counter() - flush0
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    undo()
    pending = publisher.pending()
    publisher.close()
    stages.close()
    if not sink.latencies:
        raise SystemExit(f"text replay published nothing: {outcomes}")
    return Replay(
        count=count,
        size=size,
        wall=wall,
        cpu=cpu,
        flush_s=flush_s,
        outcomes=outcomes,
        latencies=sink.latencies,
        spent=clock.spent,
        sent=list(sink.sent),
        pending=pending,
    )


def runs_note(report: Report, worst: Replay | None, mixed: Replay, every: int) -> None:
    """From the two replays: what an off-topic and an on-topic item cost, and the largest
    on-topic share at which 1,000 items/s still holds."""
    if worst is None:
        return
    on = worst.wall / worst.count
    share = 1 / every
    # mixed = share * on + (1 - share) * off, per item (wall time)
    off = (mixed.wall / mixed.count - share * on) / (1 - share)
    if not 0 < off < on:
        return
    limit = (1e-3 - off) / (on - off)
    verdict = (
        f"1,000 items/s holds while at most {limit:.0%} of the items are on topic"
        if limit > 0
        else "1,000 items/s is out of reach even with no item on topic"
    )
    report.notes.append(
        f"From the two text replays (wall time per item): an item filtered out costs "
        f"{off * 1000:.2f} ms, an item on topic {on * 1000:.2f} ms (story assignment and "
        f"publishing); {verdict}."
    )


def bench_text(
    report: Report, bootstrap: str, tmp: Path, count: int, on_topic_every: int = 10
) -> None:
    """Replay `count` stories through every stage into Kafka, all on topic (the worst case)
    and 1 in `on_topic_every` on topic; then the publish path vs bare kafka-python."""
    publish_run: Replay | None = None
    for every in dict.fromkeys((1, on_topic_every)):
        gen = NewsGenerator(on_topic_every=every)
        run = replay_into_kafka(bootstrap, tmp / f"text-{every}", count, gen)
        lat = run.latencies
        say(f"text (1 in {every} on topic): {run.summary}; {len(lat)} messages acked")
        if every == 1:
            report.notes.append(
                f"Text replay: {count} synthetic stories ({run.size / count / 1024:.1f} KB/line)"
                f", default config with filters on: {run.summary}; {len(run.sent)} Kafka "
                f"messages (story topic + rule topics), {run.pending} left in the outbox."
            )
            what = "text replay, all stages -> Kafka, every item on topic (items/s)"
            topic = ""
        else:
            report.notes.append(
                f"Mixed text replay: the same kind of stories, 1 in {every} on topic and the "
                f"rest local news no rule matches: {run.summary}; {len(run.sent)} Kafka "
                f"messages, {run.pending} left in the outbox."
            )
            what = f"text replay, 1 item in {every} on topic, the rest filtered out (items/s)"
            topic = f" (1 in {every} on topic)"
        rate = count / run.wall
        report.add(
            what,
            f"{rate:,.0f} items/s ({run.cpu / count * 1000:.2f} ms CPU/item)",
            "",
            "",
            ">= 1,000 items/s",
            "yes" if rate >= 1000 else "NO",
        )
        report.add(
            f"text replay latency{topic}, read -> Kafka ack",
            f"p50 {pct(lat, 0.5) * 1000:.1f} ms, p99 {pct(lat, 0.99) * 1000:.1f} ms",
        )
        report.add(f"text replay{topic}, wall time per item by stage", run.stages())
        if every == 1:
            publish_run = run
        else:
            runs_note(report, publish_run, run, every)
    assert publish_run is not None
    in_pipeline = (
        publish_run.spent.get("publish: outbox put", 0)
        + publish_run.spent.get("publish: send + settle", 0)
        + publish_run.flush_s
    )
    settings = bench_settings(bootstrap, tmp / "text-1" / "state.db")
    bench_publish(report, settings, tmp, publish_run.sent, in_pipeline)
