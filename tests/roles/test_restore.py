"""Restoring the story tier's dedup state from story events: same identities, same stories."""

from __future__ import annotations

import dataclasses

import orjson

from monitor.config import DedupSettings
from monitor.dedup import Deduplicator
from monitor.model import PASS_ALL, Article, stable_id
from monitor.publish.message import story_event
from monitor.roles.restore import restore, story_article
from monitor.state import connect
from tests.dedup.seedtext import seed_articles

SETTINGS = DedupSettings()


def fresh() -> Deduplicator:
    return Deduplicator.on_connection(SETTINGS, connect(":memory:"))


def published(dedup: Deduplicator, articles: list[Article]) -> list[bytes]:
    """The story events the single daemon would publish for `articles`."""
    values = []
    for art in articles:
        got = dedup.assign(art)
        event = "story.created" if got.new else "story.updated"
        values.append(orjson.dumps(story_event(event, got.story_id, art, got.sources, PASS_ALL)))
    return values


def test_a_restored_state_knows_every_item_and_story_without_scoring() -> None:
    arts = seed_articles()
    first = fresh()
    values = published(first, arts[:4])  # 001 and 002 are one story
    second = fresh()
    report = restore(second, values)
    assert (report.messages, report.restored, report.repeats, report.skipped) == (4, 4, 0, 0)
    for art in arts[:4]:
        hit, before = second.identity(art), first.identity(art)
        assert hit is not None and before is not None and hit.story_id == before.story_id
    assert second.store.sources(arts[1].item_id) == first.store.sources(arts[1].item_id)
    # The next article is decided as the first state would decide it.
    assert second.assign(arts[4]) == first.assign(arts[4])


def test_a_copy_under_another_url_still_joins_its_story_after_a_restore() -> None:
    arts = seed_articles()
    second = fresh()
    restore(second, published(fresh(), arts[:2]))
    copy = dataclasses.replace(arts[1], item_id=stable_id("copy"), url="https://copy.example/x")
    got = second.assign(copy)
    assert not got.new and got.story_id == arts[1].item_id


def test_repeats_and_strangers_are_counted_not_restored() -> None:
    arts = seed_articles()
    values = published(fresh(), arts[:2])
    report = restore(fresh(), [*values, values[0], b"not json", b'{"schema": "other/1"}'])
    assert (report.messages, report.restored, report.repeats, report.skipped) == (5, 2, 1, 2)


def test_the_guid_travels_in_the_story_event() -> None:
    art = dataclasses.replace(seed_articles()[0], guid="urn:feed:entry-7")
    value = story_event("story.created", art.item_id, art, (), PASS_ALL)
    restored, story_id = story_article(orjson.loads(orjson.dumps(value)))
    assert (restored.guid, restored.item_id, story_id) == (
        "urn:feed:entry-7",
        art.item_id,
        art.item_id,
    )
    assert (restored.title, restored.text, restored.url) == (art.title, art.text, art.url)
