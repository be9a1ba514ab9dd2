"""The issue's acceptance checks on the five seeds, sentence by sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.clean import Cleaner
from monitor.model import Article
from tests.clean.conftest import SEEDS, seed_item, seed_paths

EXPECTED = json.loads((Path(__file__).parent / "data" / "seed_body_sentences.json").read_text())

FORBIDDEN = [
    "LEAVE A REPLY",
    "LEAVE A RESPONSE",
    "Please enter",
    "reCAPTCHA",
    "Read also",
    "More Articles",
    "Subscribe",
    "Your email address",
    "Guiltandivy",
    "Update Information",
    # The six headlines under "Read also" in seed 000.
    "Children continue to be killed and deported: USA condemns Russia's actions at the UN",
    "The Armed Forces of Ukraine anticipate a change in Russian tactics in the Lyman direction",
    "EU to impose 18th sanctions package against Russia: Merz calls on the US to join",
    "The media published a report on Iran's surviving nuclear arsenal. The Pentagon will hold",
    "Front line as of June 25. General Staff report",
    "NATO has committed to spending 5% of GDP on defense and recognizes Russia as a long-term",
]

TITLES = {
    "000_f24eacb08e7624dc.txt": "The Armed Forces of Ukraine refuted claims about North Korean "
    "soldiers in Kharkiv region.",
    "001_8bc150cff370669c.txt": "Defense chief confirms first battles between Ukrainian and "
    "North Korean soldiers in Kursk Oblast",
    "002_0ad73907c82a4020.txt": "Ukraine says it fought North Korean troops for the first time",
    "003_b1ac101bd35f63a9.txt": "Rutte: NATO has no evidence of DPRK soldiers' involvement in "
    "war in Ukraine",
    "004_19d451756c40f857.txt": "The Ukrainian military encountered soldiers from the DPRK for "
    "the first time in combat on November 4 in the Kursk region of Russia.",
}


def _clean(cleaner: Cleaner, path: Path) -> Article:
    result = cleaner.clean(seed_item(path))
    assert isinstance(result, Article), result
    return result


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_all_seeds_have_expected_sentences() -> None:
    assert sorted(EXPECTED) == [p.name for p in seed_paths()]


@pytest.mark.parametrize("path", seed_paths(), ids=lambda p: p.name[:3])
def test_no_boilerplate_left(cleaner: Cleaner, path: Path) -> None:
    article = _clean(cleaner, path)
    published = _flat(f"{article.title}\n{article.text}").casefold()
    for phrase in FORBIDDEN:
        assert phrase.casefold() not in published, phrase


@pytest.mark.parametrize("path", seed_paths(), ids=lambda p: p.name[:3])
def test_every_body_sentence_kept(cleaner: Cleaner, path: Path) -> None:
    text = _flat(_clean(cleaner, path).text)
    missing = [s for s in EXPECTED[path.name] if _flat(s) not in text]
    assert missing == []


@pytest.mark.parametrize("path", seed_paths(), ids=lambda p: p.name[:3])
def test_title_set_and_not_repeated_in_body(cleaner: Cleaner, path: Path) -> None:
    article = _clean(cleaner, path)
    assert article.title == TITLES[path.name]
    assert article.title not in article.text


def test_site_chrome_and_repeated_headline_recorded(cleaner: Cleaner) -> None:
    article = _clean(cleaner, SEEDS / "002_0ad73907c82a4020.txt")
    rules = [(r.rule, r.text) for r in article.removed]
    assert ("site_chrome", "Guiltandivy") in rules
    assert ("site_chrome", "Update Information") in rules
    assert ("headline", TITLES["002_0ad73907c82a4020.txt"]) in rules
    assert ("headline_repeat", TITLES["002_0ad73907c82a4020.txt"]) in rules
    assert ("comment_form", "LEAVE A RESPONSE") in rules


def test_dateline_kept_as_metadata(cleaner: Cleaner) -> None:
    article = _clean(cleaner, SEEDS / "003_b1ac101bd35f63a9.txt")
    assert article.dateline == "Kyiv • UNN"
    assert "Kyiv • UNN" not in article.text
    assert ("dateline", "Kyiv • UNN") in [(r.rule, r.text) for r in article.removed]
    assert article.published is not None and article.published.isoformat().startswith("2024-10-17")


def test_glued_words_repaired(cleaner: Cleaner) -> None:
    text = _clean(cleaner, SEEDS / "003_b1ac101bd35f63a9.txt").text
    for glued in ("reportedthat", "saidthat", "reportthat"):
        assert glued not in text
    assert "Zelenskyy said that North Korea" in text


def test_apostrophes_unified(cleaner: Cleaner) -> None:
    text = _clean(cleaner, SEEDS / "004_19d451756c40f857.txt").text
    assert "country's missile programs" in text
    assert "ʼ" not in text


def test_read_also_headlines_recorded_with_their_rule(cleaner: Cleaner) -> None:
    article = _clean(cleaner, SEEDS / "000_f24eacb08e7624dc.txt")
    block = [r.text for r in article.removed if r.rule == "related_block"]
    assert block[0] == "Read also"
    assert len(block) == 7
