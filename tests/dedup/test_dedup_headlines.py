"""Headline items (a title, no text) through dedup and the filters: no crash, no blanket merge."""

from __future__ import annotations

from pathlib import Path

from monitor.config import DedupSettings
from monitor.dedup import Deduplicator
from monitor.model import Article, Origin, stable_id

# One day of a science desk's headlines: different events, many sharing words and numbers.
HEADLINES = [
    "Comet fragments found in Antarctic ice core",
    "Gene therapy restores hearing in mice",
    "New species of frog found in Andes cloud forest",
    "Mars rover finds organic molecules in 3 billion year old rock",
    "Study links sleep loss to higher risk of heart disease",
    "Coral reefs in Red Sea show resilience to heat",
    "Webb telescope spots water vapour on distant planet",
    "Ancient DNA reveals 3 migrations into Japan",
    "Heat wave pushes Arctic sea ice to record low",
    "New antibiotic kills drug resistant bacteria in mice",
    "Volcano on Iceland peninsula erupts for 7th time",
    "Astronomers find 3 new moons around Neptune",
    "Solar storm brings northern lights to southern Europe",
    "Researchers grow human teeth in the lab",
    "Whale song recorded in Arctic for the first time in years",
    "Earthquake of magnitude 6.1 strikes off Japan coast",
    "Bird flu found in dairy cattle in 3 more states",
    "Fusion experiment sets new energy record",
    "Fossil of giant penguin found in New Zealand",
    "Drought shrinks Amazon river to lowest level in 120 years",
]


def _headline(title: str, n: int, url: bool = True) -> Article:
    return Article(
        item_id=stable_id(title),
        input_id=f"e{n}",
        source="science",
        title=title,
        text="",
        url=f"https://sci.test/a/{n}" if url else None,
        origin=Origin.ENTRY,
    )


def test_distinct_headlines_stay_distinct_stories(tmp_path: Path) -> None:
    dedup = Deduplicator.open(DedupSettings(), tmp_path / "state.db")
    results = []
    for n, title in enumerate(HEADLINES):
        article = _headline(title, n)
        assert dedup.identity(article) is None
        results.append(dedup.assign(article))
    dedup.close()
    assert all(r.new for r in results), [
        (HEADLINES[i], r.details) for i, r in enumerate(results) if not r.new
    ]


def test_a_headline_repeated_without_url_is_an_identity_duplicate(tmp_path: Path) -> None:
    dedup = Deduplicator.open(DedupSettings(), tmp_path / "state.db")
    first = _headline(HEADLINES[0], 0, url=False)
    created = dedup.assign(first)
    again = dedup.identity(_headline(HEADLINES[0], 1, url=False))
    assert again is not None and again.layer == "text" and again.story_id == created.story_id
    # With URLs, the same title elsewhere is not an identity copy: the story layer decides.
    dedup.assign(_headline(HEADLINES[1], 2))
    assert dedup.identity(_headline(HEADLINES[1], 3)) is None
    dedup.close()


def test_the_same_headline_from_another_outlet_joins_the_story(tmp_path: Path) -> None:
    dedup = Deduplicator.open(DedupSettings(), tmp_path / "state.db")
    for n, title in enumerate(HEADLINES):
        dedup.assign(_headline(title, n))
    other = _headline("Gene therapy restores hearing in mice", 99)
    joined = dedup.assign(other)
    dedup.close()
    assert not joined.new
    assert joined.story_id == stable_id("Gene therapy restores hearing in mice")
