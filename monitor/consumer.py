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


def read_stories(settings: Settings, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Yield the decoded values on the topic (`--from-beginning`, `--group`, `--timeout`)."""
    from kafka import KafkaConsumer, TopicPartition

    from monitor.publish.kafka import client_options

    topic = args.topic or settings.kafka.topic
    consumer = KafkaConsumer(
        **client_options(settings.kafka),
        group_id=args.group,
        auto_offset_reset="earliest" if args.from_beginning else "latest",
        enable_auto_commit=args.group is not None,
        consumer_timeout_ms=int(args.timeout * 1000) if args.timeout else float("inf"),
    )
    try:
        if args.group is None:
            partitions = consumer.partitions_for_topic(topic) or set()
            if not partitions:
                raise TopicMissing(f"topic {topic!r} does not exist (yet): nothing to read")
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            if args.from_beginning:
                consumer.seek_to_beginning(*assigned)
        else:
            consumer.subscribe([topic])
        for record in consumer:
            try:
                value = orjson.loads(record.value)
            except orjson.JSONDecodeError:
                value = {"undecodable": record.value.decode("utf-8", "replace")}
            yield value
    finally:
        consumer.close()


class TopicMissing(Exception):
    """The topic to read does not exist."""
