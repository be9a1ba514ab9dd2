"""The items topic contract: round trips, the schema, clear errors on bad values."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
import orjson
import pytest

from monitor.model import Article, EntityHit, Origin, Relevance
from monitor.publish.items import (
    ItemDecodeError,
    ItemRecord,
    decode_item,
    encode_item,
    item_value,
    load_item_schema,
)

FULL = ItemRecord(
    article=Article(
        item_id="abc123",
        input_id="guid-1",
        source="kyiv-feed",
        title="Troops seen near Kursk",
        text="Ukrainian officials said on Monday ...",
        url="https://example.org/a/1",
        guid="guid-1",
        published=datetime(2024, 10, 17, 8, 30, tzinfo=UTC),
        fetched=datetime(2024, 10, 17, 9, 0, 1, 250000, tzinfo=UTC),
        author="A. Writer",
        site_name="Example News",
        language="en",
        dateline="KYIV",
        meta={"warnings": ["published date in the future"]},
        origin=Origin.ENTRY,
    ),
    relevance=Relevance(
        relevant=True,
        rules=("dprk-in-war",),
        tags=("dprk", "war"),
        topics=("news.dprk",),
        entities=(EntityHit("rustem-umerov", "Rustem Umerov", "person", "Umerov", "text", 2),),
        reason="rule 'dprk-in-war' matched",
    ),
    warnings=("published date in the future",),
)

BARE = ItemRecord(
    article=Article(
        item_id="x1",
        input_id="001.txt",
        source="001.txt",
        title="",
        text="",
        fetched=datetime(2024, 1, 1, tzinfo=UTC),
    ),
    relevance=Relevance(relevant=False, reason="no rule matched"),
)


@pytest.mark.parametrize("record", [FULL, BARE], ids=["full", "bare"])
def test_round_trip_keeps_every_field(record: ItemRecord) -> None:
    key, value = encode_item(record)
    assert key == record.article.source
    back = decode_item(value)
    assert back.relevance == record.relevance
    assert back.warnings == record.warnings
    for name in Article.__slots__:
        if name not in ("removed", "meta"):
            assert getattr(back.article, name) == getattr(record.article, name), name
    assert back.article.meta.get("warnings", []) == list(record.warnings)


@pytest.mark.parametrize("record", [FULL, BARE], ids=["full", "bare"])
def test_values_match_the_shipped_schema(record: ItemRecord) -> None:
    jsonschema.validate(item_value(record), load_item_schema())


def test_schema_rejects_an_unknown_field() -> None:
    value = item_value(FULL) | {"extra": 1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, load_item_schema())


def test_a_story_message_is_not_an_item() -> None:
    with pytest.raises(ItemDecodeError, match=r"news-monitor\.item/1.*news-monitor\.story/1"):
        decode_item(orjson.dumps({"schema": "news-monitor.story/1"}))


@pytest.mark.parametrize(
    "data", [b"not json", b"[1]", orjson.dumps({"schema": "news-monitor.item/1"})]
)
def test_bad_values_raise_one_clear_error(data: bytes) -> None:
    with pytest.raises(ItemDecodeError, match=r"news-monitor\.item/1"):
        decode_item(data)
