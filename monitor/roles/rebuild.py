"""Read the last window of the stories topic: what a story tier rebuilds its state from.

A stories instance that takes over (on this machine or another) has no state of its
own: every article that went into a story is on `kafka.topic`, so it reads each
partition from the first message of the window (`offsets_for_times`) to the end offset
it found when it began, and restores the dedup state from those values
(`monitor.roles.restore`). The window is the dedup window (`dedup.window_hours`),
counted back from now on the messages' timestamps (when they were sent).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from kafka import KafkaConsumer, TopicPartition

from monitor.config import Settings
from monitor.model import utcnow
from monitor.publish.kafka import client_options

STALL_S = 60.0
"""A partition that yields nothing for this long while behind its end offset is an error."""


class RebuildError(RuntimeError):
    """The stories topic could not be read to its end offsets."""


def window_start(settings: Settings, now: datetime | None = None) -> datetime:
    """The oldest send time a rebuild reads: now minus the dedup window."""
    return (now or utcnow()) - timedelta(hours=settings.dedup.window_hours)


def read_window(settings: Settings, since: datetime) -> Iterator[bytes]:
    """Every value on the stories topic sent at or after `since`, up to the current end."""
    topic = settings.kafka.topic
    consumer = KafkaConsumer(
        **client_options(settings.kafka), group_id=None, enable_auto_commit=False
    )
    try:
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            return  # no stories published yet
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        ends: dict[TopicPartition, int] = consumer.end_offsets(tps)
        since_ms = int(since.timestamp() * 1000)
        starts = consumer.offsets_for_times({tp: since_ms for tp in tps})
        for tp in tps:
            found = starts.get(tp)
            consumer.seek(tp, ends[tp] if found is None else found.offset)
        behind = {tp for tp in tps if consumer.position(tp) < ends[tp]}
        last_progress = time.monotonic()
        while behind:
            batch = consumer.poll(timeout_ms=1000, max_records=2000)
            if batch:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > STALL_S:
                raise RebuildError(
                    f"reading {topic} stalled for {STALL_S:.0f}s before its end offsets"
                )
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp] and record.value is not None:
                        yield record.value
            behind = {tp for tp in behind if consumer.position(tp) < ends[tp]}
    finally:
        consumer.close(autocommit=False)
