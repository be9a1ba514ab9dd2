"""The reference consumer: read story events from the topic and show them to a person."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from monitor.config import Settings


def _fmt_time(value: object) -> str:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return "-"


def render_story(value: dict[str, Any]) -> str:
    """Render one story event the way a person wants to read it."""
    art = value.get("article", {})
    match = value.get("match", {})
    when = _fmt_time(art.get("published") or art.get("fetched"))
    event = str(value.get("event", "?")).removeprefix("story.")
    outlet = art.get("outlet") or art.get("source")
    lines = [
        f"{when}  {event:<7}  story {value.get('story_id')}  {outlet}",
        f"    {art.get('title')}",
    ]
    entities = sorted({e["name"] for e in match.get("entities", [])})
    if match.get("rules") or entities:
        lines.append(
            f"    matched: rules {', '.join(match.get('rules', [])) or '-'};"
            f" entities {', '.join(entities) or '-'}"
        )
    sources = value.get("sources", [])
    if len(sources) > 1:
        lines.append(f"    {len(sources)} sources: " + "; ".join(s["outlet"] for s in sources))
    return "\n".join(lines)


def _from_beginning(consumer: Any) -> Any:
    """A rebalance listener: a partition first assigned to `consumer` starts at its oldest."""
    from kafka import ConsumerRebalanceListener

    class FromBeginning(ConsumerRebalanceListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.seen: set[Any] = set()

        def on_partitions_revoked(self, revoked: Any) -> None:
            """Nothing to do: the consumer commits its offsets."""

        def on_partitions_assigned(self, assigned: Any) -> None:
            """Seek the partitions not read yet to their beginning (once, not per rebalance)."""
            fresh = [tp for tp in assigned if tp not in self.seen]
            self.seen.update(fresh)
            if fresh:
                consumer.seek_to_beginning(*fresh)

    return FromBeginning()


def read_stories(settings: Settings, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Yield the decoded values on the topic (`--from-beginning`, `--group`, `--timeout`).

    `--from-beginning` starts at the oldest message even when the group has committed
    offsets. Raises `ConsumeError` when Kafka cannot be reached or the topic is missing.
    """
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    from monitor.publish.kafka import client_options

    topic = args.topic or settings.kafka.topic
    kafka = settings.kafka.bootstrap_servers
    try:
        consumer = KafkaConsumer(
            **client_options(settings.kafka),
            group_id=args.group,
            auto_offset_reset="earliest" if args.from_beginning else "latest",
            enable_auto_commit=args.group is not None,
            consumer_timeout_ms=int(args.timeout * 1000) if args.timeout else float("inf"),
        )
    except KafkaError as exc:
        raise ConsumeError(unreachable(kafka, exc)) from None
    try:
        try:
            partitions = consumer.partitions_for_topic(topic)
        except KafkaError as exc:
            raise ConsumeError(unreachable(kafka, exc)) from None
        if not partitions:
            origin = "--topic" if args.topic else "kafka.topic"
            raise ConsumeError(
                f"topic {topic!r} does not exist on {kafka} (yet): nothing to read; check {origin}"
            )
        if args.group is None:
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            if args.from_beginning:
                consumer.seek_to_beginning(*assigned)
        elif args.from_beginning:
            consumer.subscribe([topic], listener=_from_beginning(consumer))
        else:
            consumer.subscribe([topic])
        for record in consumer:
            try:
                value = orjson.loads(record.value)
            except orjson.JSONDecodeError:
                value = {"undecodable": record.value.decode("utf-8", "replace")}
            yield value
    except KafkaError as exc:
        raise ConsumeError(
            f"reading {topic!r} from {kafka} failed: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        consumer.close()


def unreachable(bootstrap: str, exc: Exception) -> str:
    """The one line for a broker that does not answer."""
    return (
        f"cannot reach Kafka at {bootstrap} ({type(exc).__name__}): check kafka.bootstrap_servers"
        " (NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS) and that the broker is running"
    )


class ConsumeError(Exception):
    """The topic cannot be read: Kafka unreachable, or the topic does not exist."""
