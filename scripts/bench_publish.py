"""The publish rows: the publish path (outbox + KafkaSink) beside bare kafka-python.

On the messages of the text replay (bench_text), or with `--only publish` on the messages
the real pipeline makes for a number of stories, captured by a sink that keeps them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_common import DEVNULL, Report, bench_settings, pct, say
from bench_news import NewsGenerator

from monitor.config import Settings
from monitor.logging import configure_logging
from monitor.model import RawItem
from monitor.pipeline import BATCH_SIZE
from monitor.publish.kafka import BATCH_BYTES, KafkaSink, client_options
from monitor.publish.message import OutMessage
from monitor.state import transaction
from monitor.wiring import build_pipeline, build_stages, kafka_publisher


class _NullSink:
    """Acknowledges everything at once, keeping what it got (warm-up, publish section)."""

    def __init__(self) -> None:
        self._acked: list[str] = []
        self.sent: list[OutMessage] = []

    def send(self, message: OutMessage) -> None:
        self._acked.append(message.message_id)
        self.sent.append(message)

    def acked(self) -> list[str]:
        out, self._acked = self._acked, []
        return out

    def failed(self) -> list[tuple[str, str]]:
        return []

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None


def bench_publish_only(report: Report, bootstrap: str, tmp: Path, count: int) -> None:
    """The publish rows alone: the pipeline's messages for `count` stories, then bench_publish."""
    from monitor.publish import Publisher

    settings = bench_settings(bootstrap, tmp / "publish" / "state.db")
    configure_logging(settings.logging, stream=DEVNULL)
    stages = build_stages(settings, state_path=settings.state_path)
    sink = _NullSink()
    publisher = Publisher(lambda: sink, None)
    publisher.start()
    pipeline = build_pipeline(settings, stages, publisher)
    gen = NewsGenerator()
    batch = []
    for n in range(count):
        obj = gen.article(n)
        batch.append(
            RawItem(
                input_id=obj["id"], source=obj["source"], text=obj["text"],
                title=obj["title"], url=obj["url"],
            )
        )  # fmt: skip
        if len(batch) == BATCH_SIZE or n == count - 1:
            pipeline.process_many(batch)
            batch = []
    stages.close()
    bench_publish(report, settings, tmp, sink.sent, None)


def bare_produce(
    settings: Settings, messages: list[OutMessage]
) -> tuple[float, list[float], float]:
    """Send the messages with a bare KafkaProducer (same settings); seconds, latencies and
    CPU seconds of the calling thread."""
    from kafka import KafkaProducer

    k = settings.kafka
    producer = KafkaProducer(
        **client_options(k),
        acks="all",
        enable_idempotence=True,
        compression_type=None if k.compression == "none" else k.compression,
        linger_ms=k.linger_ms,
        batch_size=BATCH_BYTES,
        delivery_timeout_ms=int(k.delivery_timeout_s * 1000),
        max_block_ms=5000,
    )
    producer.send(k.topic, key=b"warm", value=b"{}").get(timeout=30)  # metadata, connection
    latencies: list[float] = []
    lock = threading.Lock()

    def acked(begun: float) -> Callable[[Any], None]:
        def done(_meta: Any) -> None:
            with lock:
                latencies.append(time.perf_counter() - begun)

        return done

    start, cpu = time.perf_counter(), time.thread_time()
    for m in messages:
        future = producer.send(
            m.topic,
            key=m.key.encode("utf-8"),
            value=m.value,
            headers=[("message_id", m.message_id.encode("ascii"))],
        )
        future.add_callback(acked(time.perf_counter()))
    producer.flush(timeout=60)
    took, cpu = time.perf_counter() - start, time.thread_time() - cpu
    producer.close()
    return took, latencies, cpu


def bare_run(
    settings: Settings, messages: list[OutMessage], latencies: list[float]
) -> tuple[float, float]:
    """bare_produce, keeping the first run's latencies in `latencies`."""
    took, lat, cpu = bare_produce(settings, messages)
    if not latencies:
        latencies.extend(lat)
    return took, cpu


def project_publish(
    settings: Settings, tmp: Path, messages: list[OutMessage], outbox: bool = True
) -> tuple[float, float]:
    """Send the messages as the pipeline does: per batch of items, outbox rows in a transaction,
    send, settle (acks leave the outbox); flush at the end. Return seconds and CPU seconds
    of the calling thread."""
    stages_dir = tmp / f"publish-{time.monotonic_ns()}"
    stages_dir.mkdir()
    stages = build_stages(settings, state_path=stages_dir / "state.db")
    publisher = kafka_publisher(settings, stages)
    if not outbox:  # the Publisher and KafkaSink layers alone, as for a stream sink
        from monitor.publish import Publisher

        topics = [rule.topic for rule in settings.filters.rules if rule.topic]
        publisher = Publisher(lambda: KafkaSink(settings.kafka, topics=topics), None)
    publisher.start()
    publisher.publish([OutMessage(settings.kafka.topic, "warm", b"{}", f"warm-{time.time()}")])
    publisher.flush(timeout=30)
    # The pipeline's messages, grouped per item as it staged them (same value -> one item).
    groups: list[list[OutMessage]] = []
    for m in messages:
        if groups and groups[-1][0].value == m.value:
            groups[-1].append(m)
        else:
            groups.append([m])
    # A fresh state database: the outbox takes these ids again.
    start, cpu = time.perf_counter(), time.thread_time()
    # As the pipeline does it: the outbox rows of a batch of items in one transaction
    # (group commit), then the batch's messages sent.
    for i in range(0, len(groups), BATCH_SIZE):
        batch = [m for group in groups[i : i + BATCH_SIZE] for m in group]
        if outbox:
            with transaction(stages.state):
                publisher.stage(batch)
        publisher.send(batch)
    publisher.flush(timeout=60)
    took, cpu = time.perf_counter() - start, time.thread_time() - cpu
    assert publisher.pending() == 0, "publish path left messages in the outbox"
    publisher.close()
    stages.close()
    return took, cpu


def bench_publish(
    report: Report,
    settings: Settings,
    tmp: Path,
    messages: list[OutMessage],
    in_pipeline: float | None,
) -> None:
    """The publish path (outbox + KafkaSink) vs bare kafka-python on the same messages.

    Two views: (1) the publish calls inside the text replay just measured
    (`Publisher.stage` + `Publisher.send` with its settle, and the final flush; the
    item's BEGIN/COMMIT is shared with the dedup writes and not counted) against a
    bare producer sending those messages (skipped when `in_pipeline` is None); (2) the
    publish path alone, per batch of items one transaction as in
    `Pipeline.process_many`, over at least 6,000 messages.
    """
    if not messages:
        return
    n = len(messages)
    mb = sum(len(m.value) for m in messages) / 1e6
    say(f"publish: {n} messages, {mb:.1f} MB before compression")
    if in_pipeline is not None:
        bare_runs = [bare_produce(settings, messages) for _ in range(2)]
        b = min(t for t, _, _ in bare_runs)
        extra = in_pipeline / b - 1
        report.add(
            "publish calls inside the text replay (paced: ~1 msg per request) vs bare burst",
            f"{in_pipeline / n * 1e6:.0f} us/msg ({n:,} msgs)",
            f"{b / n * 1e6:.0f} us/msg",
            f"{extra * 100:+.0f}% time",
        )
    copies = max(1, -(-6000 // n))
    many = [
        OutMessage(m.topic, m.key, m.value, f"{m.message_id}-{k}")
        for k in range(copies)
        for m in messages
    ]
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "ours": [], "layers": []}
    bare_lat: list[float] = []
    run: dict[str, Callable[[], tuple[float, float]]] = {
        "bare": lambda: bare_run(settings, many, bare_lat),
        "ours": lambda: project_publish(settings, tmp, many),
        "layers": lambda: project_publish(settings, tmp, many, outbox=False),
    }
    order = list(run)
    for r in range(5):  # best of five: the machine is shared, runs vary by 30%
        # The order turns each round, so that no kind always runs first or after the
        # same other kind (the broker is still busy with the last run's 28 MB).
        for key in order[r % 3 :] + order[: r % 3]:
            runs[key].append(run[key]())
    # Wall time decides. CPU time of the calling thread (the work the project adds
    # there: outbox statements, settle) is shown beside it; the producer's I/O thread
    # is left out, as it polls while it waits for the broker and so follows wall time.
    b, bc = (min(x[i] for x in runs["bare"]) for i in (0, 1))
    m = len(many)
    for key, what in (
        ("layers", "publish layers without the outbox (Publisher + KafkaSink)"),
        (
            "ours",
            "publish path alone, with the outbox (per batch of items: transaction, put, send,"
            " settle)",
        ),
    ):
        o, oc = (min(x[i] for x in runs[key]) for i in (0, 1))
        extra = o / b - 1
        report.add(
            what,
            f"{m / o:,.0f} msg/s ({o / m * 1e6:.0f} us/msg; caller {oc / m * 1e6:.0f} us CPU)",
            f"{m / b:,.0f} msg/s ({b / m * 1e6:.0f} us/msg; caller {bc / m * 1e6:.0f} us CPU)",
            f"{extra * 100:+.0f}% time, {(oc / bc - 1) * 100:+.0f}% CPU",
            "<= +20%",
            "yes" if extra <= 0.20 else "NO",
        )
    if bare_lat:
        report.add(
            "bare KafkaProducer latency, send -> ack (same messages)",
            "",
            f"p50 {pct(bare_lat, 0.5) * 1000:.1f} ms, p99 {pct(bare_lat, 0.99) * 1000:.1f} ms",
        )
