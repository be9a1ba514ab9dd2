"""Layer 3, pure: an article as the story model sees it.

Terms come from `features.extract` (word stems, names, numbers, quote 3-grams).
Each is weighed by TF-IDF with document frequencies learned from the stream; a
prior from English word frequencies (wordfreq) stands in while the stream is
young, so the first articles are not compared on "the" and "said". The article
keeps its top terms as a unit vector, its title stems, its names with their
rarity, and its numbers other than years.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from wordfreq import word_frequency

from monitor.dedup.features import YEARS, Features, term_id, word_of

PROFILE_TERMS = 64
"""Terms kept per article vector and per story profile."""
PRIOR_DOCS = 50.0
"""Weight of the word-frequency prior, in documents: after a few hundred items the
stream's own frequencies decide."""
DOC_WORDS = 400
"""Words of a typical article, to turn a word's frequency into a document frequency."""
KIND_WEIGHT = {"w": 1.0, "d": 1.0, "e": 1.0, "n": 1.0, "q": 0.5}
YEAR_IDS = frozenset(term_id(f"n:{y}") for y in YEARS)
"""Years are numbers of a kind every report of a period shares: never a matching figure."""
NAME, NUMBER = 1, 2
"""Kind codes carried in the two low bits of a term id (see `features.KINDS`)."""


@dataclass(frozen=True, slots=True)
class Vector:
    """One article for layer 3."""

    terms: dict[int, float]
    """Top term ids -> weight, a unit vector, highest weight first."""
    title: frozenset[int]
    """Title stem ids."""
    names: dict[int, float]
    """Every name term id of the article -> its IDF."""
    numbers: frozenset[int]
    """Number term ids, years left out."""
    length: int
    """Body length in words."""
    labels: Mapping[int, str]
    """Term id -> readable term, for explanations."""


@lru_cache(maxsize=1 << 17)
def prior(term: str) -> float:
    """The share of English documents expected to hold `term` (0 for numbers, quotes)."""
    kind = term[0]
    if kind not in "wde":
        return 0.0
    word = word_of(term) if kind == "w" else term[2:]
    freq = word_frequency(word, "en")
    return 1.0 - math.exp(-freq * DOC_WORDS) if freq > 0 else 0.0


def idf(df: int, n_docs: int, term: str) -> float:
    """Inverse document frequency: the stream's counts plus `PRIOR_DOCS` of prior."""
    return max(math.log((n_docs + PRIOR_DOCS) / (df + PRIOR_DOCS * prior(term) + 0.5)), 0.0)


def weigh(
    features: Features,
    df: Mapping[int, int],
    n_docs: int,
    ids: Iterable[int] | None = None,
) -> Vector:
    """Turn an article's features into its layer-3 vector (pure).

    `ids`: the term ids of `features.terms`, in order, when the caller has them.
    """
    raw: dict[int, float] = {}
    labels: dict[int, str] = {}
    names: dict[int, float] = {}
    numbers: set[int] = set()
    log, get = math.log, df.get
    base = n_docs + PRIOR_DOCS
    tids = map(term_id, features.terms) if ids is None else ids
    for (term, count), tid in zip(features.terms.items(), tids, strict=True):
        kind = term[0]
        inv = log(base / (get(tid, 0) + PRIOR_DOCS * prior(term) + 0.5))
        if inv <= 0:
            continue
        if kind == "e":
            names[tid] = inv
        elif kind == "n" and tid not in YEAR_IDS:
            numbers.add(tid)
        raw[tid] = (1.0 + log(count)) * inv * KIND_WEIGHT.get(kind, 1.0)
        labels[tid] = term
    top = sorted(raw.items(), key=itemgetter(1), reverse=True)[:PROFILE_TERMS]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    terms = {t: w / norm for t, w in top}
    title = frozenset(term_id("w:" + s) for s in features.title)
    return Vector(
        terms=terms,
        title=title,
        names=names,
        numbers=frozenset(numbers),
        length=features.length,
        labels=labels,
    )
