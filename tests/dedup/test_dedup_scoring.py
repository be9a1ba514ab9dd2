"""Layer-3 scoring rules and the store's in-memory counters, on real SQLite."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from monitor.config import DedupSettings
from monitor.dedup import Deduplicator, story
from monitor.dedup.features import extract, term_id
from monitor.dedup.store import DF_FLUSH_EVERY
from tests.dedup.seedtext import seed_articles


def _vec(text: str, settings: DedupSettings) -> story.Weighted:
    return story.weigh(extract("", text), {}, 100, settings)


def test_a_lone_shared_number_does_not_join_unrelated_texts() -> None:
    settings = DedupSettings()
    a = _vec(
        "Keepers Anna Berg, Tomas Lund and Ingrid Holm counted 35 penguins beside walruses "
        "at the Oslo zoo, said Berg and Lund.",
        settings,
    )
    b = _vec(
        "Senators Maria Ruiz, Pedro Gil and Lucia Vega debated 35 amendments concerning "
        "taxation in Madrid, said Ruiz and Vega.",
        settings,
    )
    profile = story.new_profile(b)
    gated = story.value(a, profile, settings)
    ungated = story.value(a, profile, DedupSettings(number_min_cosine=0.0))
    assert ungated >= settings.number_cosine_weight * 0.5  # the number alone would weigh
    assert gated < settings.story_threshold


def test_different_weekdays_of_the_same_kind_of_event_are_penalised() -> None:
    settings = DedupSettings(date_penalty=0.5)
    a = _vec("An earthquake struck Tuesday near the coast, officials in Lima said.", settings)
    b = _vec("An earthquake struck Friday near the coast, officials in Lima said.", settings)
    same = _vec("An earthquake struck Tuesday near the coast, officials in Lima said.", settings)
    profile = story.new_profile(b)
    _, why = story.score(a, profile, settings)
    assert why["date_clash"] is True
    assert story.value(a, profile, settings) == 0.5 * story.value(
        a, profile, DedupSettings(date_penalty=1.0)
    )
    assert story.score(same, story.new_profile(a), settings)[1]["date_clash"] is False


def test_document_frequencies_are_batched_and_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    dedup = Deduplicator.open(DedupSettings(), db)
    arts = seed_articles()
    for art in arts:
        dedup.assign(art)
    kbs = term_id("e:kbs")  # in 001 and 002
    assert dedup.store.doc_freqs([kbs]) == (len(arts), {kbs: 2})
    assert len(arts) < DF_FLUSH_EVERY  # still pending in memory: close() writes them
    dedup.close()
    again = Deduplicator.open(DedupSettings(), db)
    assert again.store.doc_freqs([kbs]) == (len(arts), {kbs: 2})
    again.close()


def test_a_joined_story_is_scored_with_its_new_profile(tmp_path: Path) -> None:
    dedup = Deduplicator.open(DedupSettings(), tmp_path / "state.db")
    arts = seed_articles()
    dedup.assign(arts[0])  # the stream's statistics need more than one document
    first = dedup.assign(arts[1])
    query = [term_id("e:umerov"), term_id("e:kbs")]
    (before,) = [r for r in dedup.store.candidates(query, 0.0, 100, 30)]  # cached now
    assert before.profile.size == 1
    joined = dedup.assign(arts[2])
    assert joined.story_id == first.story_id
    (after,) = [r for r in dedup.store.candidates(query, 0.0, 100, 30)]
    assert after.profile.size == 2  # the cached profile was dropped on write
    dedup.close()


def test_members_are_stored_and_blended_into_a_multi_member_story(tmp_path: Path) -> None:
    settings = DedupSettings()
    dedup = Deduplicator.open(settings, tmp_path / "state.db")
    arts = seed_articles()
    dedup.assign(arts[0])
    first = dedup.assign(arts[1])
    joined = dedup.assign(arts[2])
    assert joined.story_id == first.story_id
    members = dedup.store.members([first.story_id], settings.member_limit)[first.story_id]
    assert [m.size for m in members] == [1, 1]
    assert all(0 < len(m.terms) <= settings.member_terms for m in members)
    # Scored again, the two-member story blends centroid and members: the reasons
    # name the centroid score next to the blended one.
    # Every other line of 002: too different for a near copy, the same report.
    half = "\n".join(arts[2].text.splitlines()[::2])
    again = dedup.assign(
        dataclasses.replace(arts[2], item_id="again", url=None, guid=None, text=half)
    )
    why = again.details["dedup"]
    assert again.story_id == first.story_id and again.layer == "story"
    assert why["centroid"] != why["score"]
    dedup.close()


def test_a_state_file_from_before_member_vectors_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    con = sqlite3.connect(str(db))
    con.execute(
        "CREATE TABLE dedup_item (item INTEGER PRIMARY KEY, item_id TEXT NOT NULL, "
        "story INTEGER NOT NULL, t REAL NOT NULL, outlet TEXT NOT NULL, url TEXT, "
        "title TEXT NOT NULL, published REAL, fetched REAL NOT NULL, sig BLOB)"
    )
    con.commit()
    con.close()
    dedup = Deduplicator.open(DedupSettings(), db)
    result = dedup.assign(seed_articles()[0])
    assert result.new
    dedup.close()
