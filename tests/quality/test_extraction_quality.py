"""Extraction quality gate: the clean stage on the development corpora, against floors.

Scores what `scripts/eval_extraction.py` scores (the same module, the real `Cleaner` with
its extraction process) on trafilatura's evaluation set and readability's test pages.
Fails when precision, recall or F1 of either set drops more than TOLERANCE below its
floor, or when a page is lost: the project scores under 0.5 where bare trafilatura scores
over 0.8 (bare trafilatura runs only on the pages the project scores under 0.5), other
than the KNOWN_LOST pages (none) listed with their cause; and when the byline author
search gives another answer than trafilatura's `extract_author` on any page. Skipped,
with the reason, when the corpora are not beside the repository (`../shared/corpora`);
under CI their absence is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.config import load_settings
from scripts.extraction_scoring import (
    LOST_BELOW,
    SETS,
    Score,
    bare_extractor,
    check_byline,
    lost_pages,
    project_texts,
    short_pages,
)
from tests.corpora_needed import corpora_missing

REPO = Path(__file__).resolve().parents[2]
TOLERANCE = 0.01
FLOORS = {  # (precision, recall, F1), as measured by scripts/eval_extraction.py
    "trafilatura": (0.9272, 0.9410, 0.9341),
    "readability": (0.9725, 0.9653, 0.9689),
}
KNOWN_LOST: set[str] = set()
"""Pages allowed to be lost, each with its cause in a comment: none."""


def extraction_corpora() -> Path | None:
    """`shared/corpora/extraction` beside the repository; fail under CI if it is missing."""
    base = REPO.parent / "shared" / "corpora" / "extraction"
    if base.is_dir():
        return base
    if os.environ.get("CI"):
        pytest.fail(f"extraction corpora not found at {base}; CI must provide them")
    return None


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_extraction_quality(name: str) -> None:
    base = extraction_corpora()
    if base is None:
        corpora_missing(f"no development corpora beside the repository ({REPO.parent / 'shared'})")
    pages = list(SETS[name](base / name))
    assert pages, f"no pages in {base / name}"
    settings = load_settings()
    texts = project_texts(pages, settings.clean, settings.config_dir)
    ours, bare = Score(), Score()
    for page in pages:
        ours.add(page, texts[page.name], 0.0)
        if ours.per_page[page.name] < LOST_BELOW:
            bare.add(page, bare_extractor(page), 0.0)
    got = dict(zip(("precision", "recall", "F1"), ours.prf, strict=True))
    floors = dict(zip(("precision", "recall", "F1"), FLOORS[name], strict=True))
    low = {k: f"{v:.4f} < {floors[k]:.4f}" for k, v in got.items() if v < floors[k] - TOLERANCE}
    lost = lost_pages(ours, bare, short_pages(pages, settings.clean.min_chars) | KNOWN_LOST)
    assert not low, f"{name} set: {low}"
    assert not lost, f"{name} set: pages lost (page, project, bare): {lost}"


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_byline_author_as_trafilatura_finds_it(name: str) -> None:
    base = extraction_corpora()
    if base is None:
        corpora_missing(f"no development corpora beside the repository ({REPO.parent / 'shared'})")
    check = check_byline(list(SETS[name](base / name)))
    assert check.pages and check.found, f"no page with a byline author in {base / name}"
    assert not check.differ, f"{name} set: (page, trafilatura, project): {check.differ}"
