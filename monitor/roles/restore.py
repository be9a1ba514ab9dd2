"""Restore the story tier's dedup state from published story events. Pure apart from `dedup`.

`news.stories` carries every article that went into a story (`story.created` and every
`story.updated`, with its title, text, URL and GUID): replaying the window's events into
`Deduplicator.restore` gives back the identity keys, the near-verbatim signatures and the
story profiles, without scoring anything again. An item seen twice (a message sent
again after a crash) is restored once; a value that is not a story event is counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import structlog

from monitor.dedup import Deduplicator
from monitor.model import Article, Origin
from monitor.publish.message import SCHEMA_ID

log = structlog.get_logger("monitor.roles.restore")

EVENTS = ("story.created", "story.updated")


@dataclass
class RestoreReport:
    """What one rebuild read and restored."""

    messages: int = 0
    restored: int = 0
    """Articles added to the dedup state."""
    repeats: int = 0
    """Articles already restored (the same item sent again)."""
    skipped: int = 0
    """Values that are not story events (or are malformed): logged, not restored."""


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def story_article(value: Mapping[str, Any]) -> tuple[Article, str]:
    """The article a story event carries and its story id; KeyError/ValueError if malformed."""
    if value.get("schema") != SCHEMA_ID or value.get("event") not in EVENTS:
        raise ValueError(f"not a {SCHEMA_ID} story event")
    a = value["article"]
    article = Article(
        item_id=str(value["item_id"]),
        input_id=str(value["item_id"]),
        source=a["source"],
        title=a["title"],
        text=a["text"],
        url=a.get("url"),
        guid=a.get("guid"),
        published=_time(a.get("published")),
        fetched=datetime.fromisoformat(a["fetched"]),
        author=a.get("author"),
        site_name=a.get("outlet"),
        language=a.get("language"),
        dateline=a.get("dateline"),
        origin=Origin.ENTRY if not a["text"] else Origin.DOCUMENT,
    )
    return article, str(value["story_id"])


def restore(dedup: Deduplicator, values: Iterable[bytes]) -> RestoreReport:
    """Replay story event values (oldest first per story) into `dedup`."""
    report = RestoreReport()
    for data in values:
        report.messages += 1
        try:
            article, story_id = story_article(orjson.loads(data))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            report.skipped += 1
            log.warning("restore.skipped", error=f"{type(exc).__name__}: {exc}")
            continue
        if dedup.restore(article, story_id):
            report.restored += 1
        else:
            report.repeats += 1
    return report
