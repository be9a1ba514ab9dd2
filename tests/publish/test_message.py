"""Story messages: built values validate against the shipped JSON Schema."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import orjson
import pytest

from monitor.model import PASS_ALL, Article, EntityHit, Relevance, StorySource
from monitor.publish.message import SCHEMA_ID, encode, encode_for, load_schema, story_event

ARTICLE = Article(
    item_id="i1",
    input_id="001.txt",
    source="001.txt",
    title="Defense chief confirms first battles",
    text="The first clashes ...",
    url="https://example.test/a",
    published=datetime(2024, 11, 5, tzinfo=UTC),
)


def test_created_event_validates_and_is_keyed_by_story() -> None:
    value = story_event("story.created", "i1", ARTICLE, [StorySource.of(ARTICLE)], PASS_ALL)
    jsonschema.validate(value, load_schema())
    msg = encode("news.stories", value)
    assert msg.key == "i1" and msg.message_id == value["message_id"]
    assert orjson.loads(msg.value)["schema"] == SCHEMA_ID


def test_message_id_is_stable_across_emits() -> None:
    a = story_event("story.created", "i1", ARTICLE, [StorySource.of(ARTICLE)], PASS_ALL)
    b = story_event("story.created", "i1", ARTICLE, [StorySource.of(ARTICLE)], PASS_ALL)
    c = story_event("story.updated", "i1", ARTICLE, [StorySource.of(ARTICLE)], PASS_ALL)
    assert a["message_id"] == b["message_id"] != c["message_id"]


def test_updated_event_with_entities_validates() -> None:
    match = Relevance(
        relevant=True,
        rules=("dprk",),
        entities=(EntityHit("Q423", "North Korea", "country", "DPRK", "text", 2),),
        reason="rule dprk matched",
    )
    other = StorySource("i2", "Other outlet", None, "Another title", None, ARTICLE.fetched)
    value = story_event(
        "story.updated",
        "i1",
        ARTICLE,
        [StorySource.of(ARTICLE), other],
        match,
        dedup={"layer": "story", "score": 0.8},
    )
    jsonschema.validate(value, load_schema())


def test_schema_rejects_a_value_without_version() -> None:
    value = story_event("story.created", "i1", ARTICLE, [StorySource.of(ARTICLE)], PASS_ALL)
    del value["schema"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, load_schema())


def test_one_event_for_several_topics_is_serialised_once() -> None:
    value = {"story_id": "s1", "message_id": "m1", "event": "story.created"}
    out = encode_for(["news.stories", "news.dprk"], value)
    assert [m.topic for m in out] == ["news.stories", "news.dprk"]
    assert out[0].value is out[1].value  # the same bytes object
    assert out[0] == encode("news.stories", value)
    assert {m.key for m in out} == {"s1"} and {m.message_id for m in out} == {"m1"}


def test_a_source_lists_its_times_in_utc_whatever_the_article_carried() -> None:
    """A new story's one source reads as the same source read back for a later update."""
    seoul = timezone(timedelta(hours=9))
    article = replace(
        ARTICLE,
        published=datetime(2024, 11, 5, 9, 30, tzinfo=seoul),
        fetched=datetime(2024, 11, 5, 12, 0, tzinfo=seoul),
    )
    source = StorySource.of(article).to_json()
    assert source["published"] == "2024-11-05T00:30:00+00:00"
    assert source["fetched"] == "2024-11-05T03:00:00+00:00"
    assert StorySource.of(replace(article, published=None)).to_json()["published"] is None
