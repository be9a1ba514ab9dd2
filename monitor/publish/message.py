"""The Kafka contract: build story event messages (pure) and describe them.

Key = `story_id`; value = UTF-8 JSON with a `schema` version field, validated by
`monitor/schemas/story-v1.json`. `message_id` is derived from content, so a
message sent again after a crash carries the same id and consumers can drop repeats.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Literal

import orjson

from monitor.model import Article, Relevance, StorySource, stable_id, utcnow

SCHEMA_ID = "news-monitor.story/1"
EventType = Literal["story.created", "story.updated"]


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One message ready for a sink: topic, key, value bytes and its stable id."""

    topic: str
    key: str
    value: bytes
    message_id: str


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


_source_json = functools.lru_cache(maxsize=8192)(StorySource.to_json)
"""A source's JSON form, shared by the messages that list it (read-only; ~0.5 KB each):
a `story.updated` lists every source of its story, most of them listed by the update
before."""


def story_event(
    event: EventType,
    story_id: str,
    article: Article,
    sources: Sequence[StorySource],
    match: Relevance,
    dedup: dict[str, Any] | None = None,
    emitted_at: datetime | None = None,
) -> dict[str, Any]:
    """Build the JSON value of a `story.created` or `story.updated` event."""
    return {
        "schema": SCHEMA_ID,
        "event": event,
        "message_id": stable_id(event, story_id, article.item_id),
        "story_id": story_id,
        "item_id": article.item_id,
        "emitted_at": (emitted_at or utcnow()).isoformat(),
        "article": {
            "title": article.title,
            "text": article.text,
            "url": article.url,
            "guid": article.guid,
            "source": article.source,
            "outlet": article.site_name or article.source,
            "published": _iso(article.published),
            "fetched": article.fetched.isoformat(),
            "author": article.author,
            "language": article.language,
            "dateline": article.dateline,
        },
        "sources": list(map(_source_json, sources)),
        "match": match.to_json(),
        "dedup": dedup,
    }


def encode(topic: str, value: dict[str, Any], key: str | None = None) -> OutMessage:
    """Serialise an event value into an `OutMessage` keyed by its story id."""
    return encode_for((topic,), value, key)[0]


def encode_for(
    topics: Sequence[str], value: dict[str, Any], key: str | None = None
) -> list[OutMessage]:
    """The same event for each topic, serialised once."""
    data = orjson.dumps(value)
    key = key if key is not None else str(value["story_id"])
    mid = str(value["message_id"])
    return [OutMessage(topic=t, key=key, value=data, message_id=mid) for t in topics]


def load_schema() -> dict[str, Any]:
    """Return the JSON Schema of story messages shipped with the package."""
    text = resources.files("monitor").joinpath("schemas/story-v1.json").read_text("utf-8")
    schema: dict[str, Any] = orjson.loads(text)
    return schema
