"""The domain types every stage shares: raw items, articles, decisions.

Connectors yield `RawItem` (or `Rejected` for input they could not read);
`clean` turns a `RawItem` into an `Article`; the pipeline records exactly one
`Decision` per input item. All datetimes are timezone-aware (UTC).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def stable_id(*parts: str) -> str:
    """Derive a short stable id from content (never from process state)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8)
    return digest.hexdigest()


class Origin(StrEnum):
    """What kind of input an item is: it decides what a short text means."""

    ENTRY = "entry"
    """A feed entry or a titled `.jsonl` item: its title is its headline, and its text (a
    summary, often short, or none at all) is published as it is: a headline item."""
    DOCUMENT = "document"
    """An HTML page or a plain-text dump: its text is what extraction found, so a short
    result means extraction failed (`clean.min_chars`)."""


@dataclass(frozen=True, slots=True)
class RawItem:
    """One input item as a connector read it, before any cleaning."""

    input_id: str
    """The id the input gave it: jsonl `id`, seed file name, feed entry GUID."""
    source: str
    """Where it came from: the outlet, feed name or file name."""
    text: str | None = None
    html: str | None = None
    title: str | None = None
    url: str | None = None
    guid: str | None = None
    published: datetime | None = None
    fetched: datetime = field(default_factory=utcnow)
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Connector-specific extras (feed id, summary, HTTP headers, ...)."""
    origin: Origin = Origin.DOCUMENT
    """A feed entry (headline item) or a page/text dump (see `Origin`)."""


class WorkerStopped(Exception):
    """The worker is shutting down: an item it is handed now is not taken.

    Raised to a connector's thread that delivers after the worker stopped; the
    connector leaves that item (and the rest of its poll) unseen, so the next start
    fetches it again. Nothing is lost, and it is no error.
    """


@dataclass(frozen=True, slots=True)
class Rejected:
    """Input a connector could not turn into a `RawItem`: an error as a value."""

    input_id: str
    source: str
    error: str


@dataclass(frozen=True, slots=True)
class Removal:
    """A line or block `clean` removed, and the rule that removed it."""

    text: str
    rule: str


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned item: main text and metadata, ready for dedup and filters."""

    item_id: str
    input_id: str
    source: str
    title: str
    text: str
    url: str | None = None
    guid: str | None = None
    published: datetime | None = None
    fetched: datetime = field(default_factory=utcnow)
    author: str | None = None
    site_name: str | None = None
    language: str | None = None
    dateline: str | None = None
    removed: tuple[Removal, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    origin: Origin = Origin.DOCUMENT
    """The item's `Origin`: an `ENTRY` may have an empty `text` (a headline item)."""

    @property
    def event_time(self) -> datetime:
        """Publish time, or fetch time for an item with no date (or a date in the future)."""
        if self.published is None:
            return self.fetched
        return min(self.published, self.fetched)


class Outcome(StrEnum):
    """What happened to one input item."""

    PUBLISHED = "published"
    """First item of a new story: `story.created` was published."""
    DUPLICATE = "duplicate"
    """Joined an existing story (or was an exact copy of a seen item)."""
    FILTERED = "filtered"
    """Not relevant under the configured rules."""
    REJECTED = "rejected"
    """Bad input or too little text: never published, always recorded."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The one recorded decision for one input item (`--explain` writes these)."""

    input_id: str
    source: str
    outcome: Outcome
    item_id: str | None = None
    story_id: str | None = None
    reason: str | None = None
    score: float | None = None
    layer: str | None = None
    """Which dedup layer matched, for duplicates: url, guid, text, near, story."""
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready form written by `--explain`."""
        out: dict[str, Any] = {
            "input_id": self.input_id,
            "source": self.source,
            "item_id": self.item_id,
            "decision": self.outcome.value,
        }
        for key in ("story_id", "reason", "score", "layer"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(self.details)
        return out


@dataclass(frozen=True, slots=True)
class EntityHit:
    """One gazetteer entity found in an article, and how it was written there."""

    id: str
    name: str
    type: str
    surface: str
    field: str
    count: int

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready form carried in messages."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "surface": self.surface,
            "field": self.field,
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class Relevance:
    """The filters' verdict on an article, with the reasons for it."""

    relevant: bool
    rules: tuple[str, ...] = ()
    """Names of the rules that matched."""
    tags: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    """Extra output topics named by matching rules."""
    entities: tuple[EntityHit, ...] = ()
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready `match` object carried in messages."""
        return {
            "rules": list(self.rules),
            "tags": list(self.tags),
            "entities": [e.to_json() for e in self.entities],
            "reason": self.reason,
        }


PASS_ALL = Relevance(relevant=True, reason="no rules configured: everything passes")


@dataclass(frozen=True, slots=True)
class StorySource:
    """One outlet's copy of a story, as listed in `story.updated` messages."""

    item_id: str
    outlet: str
    url: str | None
    title: str
    published: datetime | None
    fetched: datetime

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready form carried in messages."""
        return {
            "item_id": self.item_id,
            "outlet": self.outlet,
            "url": self.url,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "fetched": self.fetched.isoformat(),
        }

    @classmethod
    def of(cls, article: Article) -> StorySource:
        """Describe an article as a story source, its times in UTC (as every source list
        read back from the state lists them)."""
        published = article.published
        return cls(
            item_id=article.item_id,
            outlet=article.site_name or article.source,
            url=article.url,
            title=article.title,
            published=published.astimezone(UTC) if published is not None else None,
            fetched=article.fetched.astimezone(UTC),
        )
