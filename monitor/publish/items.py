"""The items topic contract: one fetched, cleaned, filtered item for the story tier.

Key = the item's source name; value = UTF-8 JSON validated by
`monitor/schemas/item-v1.json`. It carries everything the story tier needs to run
dedup and publish the same `news.stories` messages as the single-machine daemon:
the article, the filters' verdict and the item's warnings. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import orjson

from monitor.model import Article, EntityHit, Origin, Relevance

ITEM_SCHEMA_ID = "news-monitor.item/1"


class ItemDecodeError(ValueError):
    """An items-topic value that is not a valid `news-monitor.item/1` record."""


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """One item handed from the fetch tier to the story tier."""

    article: Article
    relevance: Relevance
    warnings: tuple[str, ...] = ()


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def item_value(record: ItemRecord) -> dict[str, Any]:
    """Build the JSON value of one items-topic record."""
    a, r = record.article, record.relevance
    return {
        "schema": ITEM_SCHEMA_ID,
        "item_id": a.item_id,
        "article": {
            "input_id": a.input_id,
            "source": a.source,
            "title": a.title,
            "text": a.text,
            "url": a.url,
            "guid": a.guid,
            "published": _iso(a.published),
            "fetched": a.fetched.isoformat(),
            "author": a.author,
            "site_name": a.site_name,
            "language": a.language,
            "dateline": a.dateline,
            "origin": a.origin.value,
        },
        "relevance": {
            "relevant": r.relevant,
            "topics": list(r.topics),
            **r.to_json(),
        },
        "warnings": list(record.warnings),
    }


def encode_item(record: ItemRecord) -> tuple[str, bytes]:
    """Serialise a record into its (key, value) pair: key = the item's source name."""
    return record.article.source, orjson.dumps(item_value(record))


def decode_item(data: bytes) -> ItemRecord:
    """Parse an items-topic value; raise `ItemDecodeError` naming what is wrong."""
    try:
        value = orjson.loads(data)
        if not isinstance(value, dict) or value.get("schema") != ITEM_SCHEMA_ID:
            found = value.get("schema") if isinstance(value, dict) else type(value).__name__
            raise ItemDecodeError(f"not a {ITEM_SCHEMA_ID} record (schema: {found!r})")
        a, r = value["article"], value["relevance"]
        article = Article(
            item_id=value["item_id"],
            input_id=a["input_id"],
            source=a["source"],
            title=a["title"],
            text=a["text"],
            url=a["url"],
            guid=a["guid"],
            published=_time(a["published"]),
            fetched=datetime.fromisoformat(a["fetched"]),
            author=a["author"],
            site_name=a["site_name"],
            language=a["language"],
            dateline=a["dateline"],
            meta={"warnings": list(value["warnings"])} if value["warnings"] else {},
            origin=Origin(a["origin"]),
        )
        relevance = Relevance(
            relevant=bool(r["relevant"]),
            rules=tuple(r["rules"]),
            tags=tuple(r["tags"]),
            topics=tuple(r["topics"]),
            entities=tuple(EntityHit(**e) for e in r["entities"]),
            reason=r["reason"],
        )
    except ItemDecodeError:
        raise
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ItemDecodeError(f"bad {ITEM_SCHEMA_ID} record: {type(exc).__name__}: {exc}") from exc
    return ItemRecord(article=article, relevance=relevance, warnings=tuple(value["warnings"]))


def load_item_schema() -> dict[str, Any]:
    """Return the JSON Schema of items-topic records shipped with the package."""
    text = resources.files("monitor").joinpath("schemas/item-v1.json").read_text("utf-8")
    schema: dict[str, Any] = orjson.loads(text)
    return schema
