"""Layer 3, pure: the features of an (article, candidate story) pair.

The centroid cosine, then what a cosine misses:
the title, rarity-weighted names, shared figures (years left out), the story's
own main names missing from the article, its heaviest terms found in the
article, and time: days between the article and the story's newest and first
member when both are dated (undated material gets 0 and the `dated` flag 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import islice

from monitor.dedup.index import Candidate
from monitor.dedup.vectors import NAME, NUMBER, YEAR_IDS, Vector

FEATURES = (
    "cosine",
    "title",
    "names",
    "story_names_missing",
    "names_missing",
    "years_clash",
    "numbers",
    "top_terms",
    "dated",
    "days_since_last",
    "days_since_first",
    "size",
    "short",
)
"""The pair features, in the model's order."""
DAY = 86400.0
TOP_TERMS = 10
"""A story's heaviest terms, for `top_terms`."""
STORY_NAMES = 3
"""A story's main names (its heaviest name terms), for `story_names_missing`."""
SHORT = 40
"""An article body shorter than this many words (a headline, a lead) is `short`."""


def features(
    vec: Vector, when: float, dated: bool, cands: Sequence[Candidate]
) -> list[list[float]]:
    """One feature row per candidate (candidates ordered by cosine, best first)."""
    if not cands:
        return []
    name_total = sum(vec.names.values())
    short = 1.0 if vec.length < SHORT else 0.0
    main_names = [t for t in vec.terms if t & 3 == NAME][:STORY_NAMES]
    years = YEAR_IDS.intersection(vec.terms)
    rows = []
    for cand in cands:
        story, terms, cos = cand.story, cand.terms, cand.cosine
        title = 0.0
        if vec.title and story.title:
            title = len(vec.title.intersection(story.title)) / len(vec.title)
        names = 0.0
        if name_total > 0:
            names = sum(w for t, w in vec.names.items() if t in terms) / name_total
        story_names = [t for t in islice(terms, PROFILE_SCAN) if t & 3 == NAME][:STORY_NAMES]
        missing = 0.0
        if story_names:
            missing = sum(t not in vec.names for t in story_names) / len(story_names)
        lost = 0.0
        if main_names:
            lost = sum(t not in terms for t in main_names) / len(main_names)
        clash = 0.0
        if years:
            story_years = YEAR_IDS.intersection(terms)
            clash = 1.0 if story_years and not story_years & years else 0.0
        shared_numbers = sum(
            1 for t in vec.numbers if t in terms and t & 3 == NUMBER and t not in YEAR_IDS
        )
        top = list(islice(terms, TOP_TERMS))
        top_share = sum(t in vec.terms for t in top) / len(top) if top else 0.0
        both_dated = dated and story.dated
        since_last = since_first = 0.0
        if both_dated:
            since_last = math.log1p(abs(when - story.last_t) / DAY)
            since_first = math.log1p(max(when - story.first_t, 0.0) / DAY)
        rows.append(
            [
                cos,
                title,
                names,
                missing,
                lost,
                clash,
                min(shared_numbers, 3) / 3,
                top_share,
                1.0 if both_dated else 0.0,
                since_last,
                since_first,
                math.log(story.size),
                short,
            ]
        )
    return rows


PROFILE_SCAN = 64
"""How deep into a story's profile its main names are looked for."""
