"""The Deduplicator on real SQLite: seeds, identity across restarts, near copies, expiry."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from monitor.config import DedupSettings
from monitor.dedup import Deduplicator
from monitor.dedup.model import load
from monitor.model import StorySource, stable_id
from tests.dedup.seedtext import default_topic, seed_articles

SETTINGS = DedupSettings()


def test_seeds_make_four_stories_with_001_and_002_together(tmp_path: Path) -> None:
    # As the worker sees them: items the default rules let through, their topic given.
    dedup = Deduplicator.open(SETTINGS, tmp_path / "state.db", topic=default_topic())
    arts = seed_articles()
    results = [dedup.assign(a) for a in arts]
    dedup.close()
    assert [r.new for r in results] == [True, True, False, True, True]
    joined = results[2]
    assert joined.story_id == arts[1].item_id
    assert joined.layer == "story"
    threshold = load().threshold
    assert joined.score is not None and joined.score >= threshold
    assert [s.item_id for s in joined.sources] == [arts[1].item_id, arts[2].item_id]
    assert joined.details["dedup"]["candidate"] == arts[1].item_id
    assert {"w:umerov", "e:umerov"} & set(joined.details["dedup"]["shared"])
    assert len({r.story_id for r in results}) == 4


def test_same_item_is_an_identity_duplicate_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    art = seed_articles()[1]
    first = Deduplicator.open(SETTINGS, db)
    assert first.identity(art) is None
    created = first.assign(art)
    first.close()

    again = Deduplicator.open(SETTINGS, db)
    hit = again.identity(art)
    assert hit is not None and hit.story_id == created.story_id
    # The same article under a decorated URL and another item id: still a duplicate.
    decorated = dataclasses.replace(
        art,
        item_id=stable_id("other"),
        url=art.url + "/?utm_source=telegram&fbclid=abc#top" if art.url else None,
        text=art.text + " ",
    )
    hit2 = again.identity(decorated)
    assert hit2 is not None and hit2.layer == "url" and hit2.story_id == created.story_id
    again.close()


def test_text_copy_under_another_url_is_a_text_duplicate(tmp_path: Path) -> None:
    dedup = Deduplicator.open(SETTINGS, tmp_path / "state.db")
    art = seed_articles()[0]
    dedup.assign(art)
    copy = dataclasses.replace(art, item_id="x", url="https://mirror.example/a", guid=None)
    hit = dedup.identity(copy)
    dedup.close()
    assert hit is not None and hit.layer == "text"


def test_near_verbatim_copy_joins_by_minhash_and_later_copies_join_after_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "state.db"
    art = seed_articles()[3]
    dedup = Deduplicator.open(SETTINGS, db)
    dedup.assign(art)
    dedup.close()
    copy = dataclasses.replace(
        art,
        item_id="copy",
        url="https://wire-copy.example/story",
        title="Rutte says NATO sees no evidence",
        text=art.text.replace("UNN reports", "agencies report") + "\nShare this article.",
    )
    dedup = Deduplicator.open(SETTINGS, db)
    assert dedup.identity(copy) is None
    result = dedup.assign(copy)
    dedup.close()
    assert not result.new and result.layer == "near" and result.story_id == art.item_id
    assert result.score is not None and result.score >= SETTINGS.near_threshold
    assert len(result.sources) == 2


def test_entries_expire_with_the_window(tmp_path: Path) -> None:
    settings = DedupSettings(window_hours=24)
    dedup = Deduplicator.open(settings, tmp_path / "state.db")
    arts = seed_articles()
    t0 = datetime(2024, 11, 1, tzinfo=UTC)
    old = dataclasses.replace(arts[1], published=t0, fetched=t0)
    dedup.assign(old)
    assert dedup.identity(old) is not None
    # Stream time moves on by two windows: the old story and its keys are purged.
    later = t0 + timedelta(hours=48)
    dedup.assign(dataclasses.replace(arts[0], published=later, fetched=later))
    assert dedup.identity(old) is None
    rewritten = dataclasses.replace(arts[2], published=later, fetched=later)
    # Its story (001) has expired: it cannot be joined any more, and it is gone.
    assert dedup.assign(rewritten).story_id != old.item_id
    assert dedup.store.sources(old.item_id) == ()
    dedup.close()


def test_shared_connection_rolls_back_with_the_callers_transaction(tmp_path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(str(tmp_path / "state.db"), isolation_level=None)
    dedup = Deduplicator.on_connection(SETTINGS, con)
    art = seed_articles()[0]
    con.execute("BEGIN")
    dedup.assign(art)
    con.execute("ROLLBACK")  # e.g. the outbox write failed: the decision is undone too
    assert dedup.identity(art) is None
    con.execute("BEGIN")
    # The in-memory index still had the rolled-back story: it is checked against the
    # store, dropped, and the article starts its story again (not a phantom update).
    again = dedup.assign(art)
    con.execute("COMMIT")
    assert again.new and again.story_id == art.item_id
    assert [s.item_id for s in again.sources] == [art.item_id]
    dedup.close()
    con.close()
    reopened = Deduplicator.open(SETTINGS, tmp_path / "state.db")
    assert reopened.identity(art) is not None
    reopened.close()


def test_an_item_dated_years_apart_never_joins_the_story(tmp_path: Path) -> None:
    """Stories are matched on event time, in both directions: old news does not join today's."""
    dedup = Deduplicator.open(SETTINGS, tmp_path / "state.db")
    arts = seed_articles()
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    first = dedup.assign(dataclasses.replace(arts[1], fetched=now))
    # 002 retells 001's story (it joins when both are undated); dated 2013, it may not.
    old = dataclasses.replace(arts[2], published=datetime(2013, 5, 2, tzinfo=UTC), fetched=now)
    assert dedup.assign(old).new
    # ... and the same holds the other way round: today's copy does not join the 2013 one.
    dedup2 = Deduplicator.open(SETTINGS, tmp_path / "other.db")
    dedup2.assign(old)
    assert dedup2.assign(dataclasses.replace(arts[1], fetched=now)).new
    dedup.close()
    dedup2.close()
    assert first.new


def test_an_old_item_keeps_its_identity_for_a_window_after_it_was_seen(tmp_path: Path) -> None:
    """A late item is kept for a window of stream time from its arrival, not purged at once."""
    settings = DedupSettings(window_hours=24)
    dedup = Deduplicator.open(settings, tmp_path / "state.db")
    arts = seed_articles()
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    dedup.assign(dataclasses.replace(arts[2], fetched=now))  # the stream is at `now`
    old = dataclasses.replace(arts[1], published=datetime(2013, 5, 2, tzinfo=UTC), fetched=now)
    dedup.assign(old)
    # Newer items move the stream clock on by 12 hours and trigger purges.
    for hours, art in ((6, arts[0]), (12, arts[3])):
        dedup.assign(dataclasses.replace(art, fetched=now + timedelta(hours=hours)))
    hit = dedup.identity(old)
    assert hit is not None and hit.story_id == old.item_id
    # A window after it was seen, it is forgotten like any other item.
    dedup.assign(dataclasses.replace(arts[4], fetched=now + timedelta(hours=30)))
    assert dedup.identity(old) is None
    assert dedup.store.sources(old.item_id) == ()
    dedup.close()


def as_json(sources: tuple[StorySource, ...]) -> list[dict[str, object]]:
    return [s.to_json() for s in sources]


def test_an_updates_sources_are_the_stored_ones_after_a_rollback(tmp_path: Path) -> None:
    """A story's source list is kept between updates; it must always equal what the store
    reads back, also when the caller rolled back the last update."""
    import sqlite3

    con = sqlite3.connect(str(tmp_path / "state.db"), isolation_level=None)
    dedup = Deduplicator.on_connection(SETTINGS, con)
    art = seed_articles()[1]
    base = art.published or art.fetched
    # Copies of one article from other outlets, times with another UTC offset: all join.
    copies = [
        dataclasses.replace(
            art,
            item_id=f"copy-{i}",
            url=f"https://outlet{i}.example/news/1",
            guid=None,
            text=f"{art.text} Filed by desk {i}.",
            published=(base + timedelta(hours=i)).astimezone(timezone(timedelta(hours=2))),
        )
        for i in range(5)
    ]
    for n, copy in enumerate(copies[:3]):
        res = dedup.assign(copy)
        assert res.new is (n == 0)
        if not res.new:  # an update's list: kept from the last update plus this source
            assert as_json(res.sources) == as_json(dedup.store.sources(res.story_id))
    con.execute("BEGIN")
    dedup.assign(copies[3])
    con.execute("ROLLBACK")  # the update is undone: its source must not stay in the list
    res = dedup.assign(copies[4])
    assert not res.new
    assert as_json(res.sources) == as_json(dedup.store.sources(res.story_id))
    assert [s.item_id for s in res.sources] == ["copy-0", "copy-1", "copy-2", "copy-4"]
    dedup.close()
    con.close()
