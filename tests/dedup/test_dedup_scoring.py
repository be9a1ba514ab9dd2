"""Layer 3 on real SQLite: pair features, the rebuilt index, statistics across restarts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from monitor.config import DedupSettings
from monitor.dedup import Deduplicator, pairs
from monitor.dedup.docfreq import DF_FLUSH_EVERY
from monitor.dedup.features import extract, term_id
from monitor.dedup.index import StoryIndex, merged
from monitor.dedup.vectors import PROFILE_TERMS, Vector, weigh
from tests.dedup.seedtext import seed_articles


def _vec(title: str, text: str) -> Vector:
    return weigh(extract(title, text), {}, 100)


def _row(article: Vector, story: Vector) -> dict[str, float]:
    index = StoryIndex()
    index.put("s", story.terms, story.title, 1, (0.0, 0.0, 0.0), False)
    (cand,) = index.candidates(article.terms, -1.0, 1.0)
    (row,) = pairs.features(article, 0.0, False, [cand])
    return dict(zip(pairs.FEATURES, row, strict=True))


def test_a_shared_year_is_not_a_shared_figure() -> None:
    a = _vec("Budget passed", "The council passed the 2016 budget of 11,500 dollars on Monday.")
    b = _vec("Budget rejected", "The assembly rejected the 2016 budget of 9,750 dollars on Friday.")
    assert term_id("n:2016") not in a.numbers
    assert _row(a, b)["numbers"] == 0.0
    same = _vec("Budget passed", "Councillors approved 11,500 dollars for 2016, officials said.")
    assert _row(same, a)["numbers"] > 0


def test_different_years_of_the_same_kind_of_event_clash() -> None:
    a = _vec("Quake hits coast", "An earthquake struck the coast of Peru in 2007, officials said.")
    b = _vec("Quake hits coast", "An earthquake struck the coast of Peru in 2011, officials said.")
    c = _vec("Quake hits coast", "An earthquake struck the coast of Peru in 2007, the army said.")
    assert _row(a, b)["years_clash"] == 1.0
    assert _row(c, a)["years_clash"] == 0.0


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


def test_the_index_is_rebuilt_from_the_store_at_start(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    arts = seed_articles()
    dedup = Deduplicator.open(DedupSettings(), db)
    dedup.assign(arts[0])
    first = dedup.assign(arts[1])
    before = dedup.clusterer.index.get(first.story_id)
    dedup.close()
    again = Deduplicator.open(DedupSettings(), db)
    assert len(again.clusterer.index) == 2
    story = again.clusterer.index.get(first.story_id)
    assert story is not None and before is not None
    assert story.terms() == before.terms() and list(story.title) == list(before.title)
    joined = again.assign(arts[2])  # 002 retells 001: it finds the rebuilt story
    assert joined.story_id == first.story_id and joined.layer == "story"
    again.close()


def test_explain_names_the_features_and_their_weight(tmp_path: Path) -> None:
    dedup = Deduplicator.open(DedupSettings(), tmp_path / "state.db")
    arts = seed_articles()
    dedup.assign(arts[1])
    joined = dedup.assign(arts[2])
    why = joined.details["dedup"]
    assert set(why["features"]) == set(pairs.FEATURES)
    assert set(why["contributions"]) == set(pairs.FEATURES)
    assert why["score"] == joined.score and why["candidate"] == arts[1].item_id
    dedup.close()


def test_headline_only_items_are_clustered_on_their_titles(tmp_path: Path) -> None:
    dedup = Deduplicator.open(DedupSettings(), tmp_path / "state.db")
    art = seed_articles()[1]
    first = dedup.assign(dataclasses.replace(art, text=""))
    assert first.new
    again = dataclasses.replace(art, item_id="h2", url="https://other.example/h2", text="")
    result = dedup.assign(again)
    assert result.details["dedup"]["features"]["title"] == 1.0
    dedup.close()


def test_an_article_keeps_all_its_terms_and_a_story_its_heaviest() -> None:
    text = " ".join(f"Word{i:03d}x appears here, word{i:03d}x again." for i in range(100))
    article = _vec("A long list", text.lower())
    assert len(article.terms) > PROFILE_TERMS
    assert abs(sum(w * w for w in article.terms.values()) - 1.0) < 1e-9
    weights = list(article.terms.values())
    assert weights == sorted(weights, reverse=True)
    profile = merged({}, article.terms)
    assert list(profile) == list(article.terms)[:PROFILE_TERMS]


def test_weighing_is_the_same_with_counts_in_order_and_without_knowing_the_kinds() -> None:
    text = (
        "Defense Minister Rustem Umerov told KBS on Tuesday that 11,000 troops had moved. "
        "“We are identifying clashes with North Korean forces near the border,” Umerov said. "
        "The the the said said minister told told."
    )
    feats = extract("Umerov confirms clashes", text)
    tids = list(map(term_id, feats.terms))
    df = {tid: i % 7 for i, tid in enumerate(tids)} | {term_id("w:the"): 60, term_id("w:said"): 55}
    by_id = weigh(feats, df, 40)
    assert all(w > 0 for w in by_id.terms.values())  # only kept terms, all weighing
    in_order = weigh(feats, [df.get(t, 0) for t in tids], 40, tids)
    unknown = weigh(dataclasses.replace(feats, words=None), df, 40)
    assert by_id == in_order == unknown
    assert term_id("w:the") not in by_id.terms  # more documents than the stream: not kept
    assert by_id.names and by_id.numbers


def test_a_count_below_one_is_refused() -> None:
    feats = extract("Umerov confirms clashes", "Umerov said the clashes went on.")
    feats.terms["w:clashes"] = 0
    with pytest.raises(ValueError, match="math domain"):
        weigh(feats, {}, 10)
