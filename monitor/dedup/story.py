"""Layer 3, pure: weigh an article's features and compare it with story profiles.

A story is kept as a compact profile: the top-K typed terms of the sum of its
members' normalised vectors, and the stems of its titles. Term weights are
TF-IDF with document frequencies learned from the stream, multiplied per kind:
names and numbers say which *report* this is, plain words mostly which *topic*,
so in a one-topic stream the names and numbers must carry the decision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

from wordfreq import zipf_frequency

from monitor.config import DedupSettings
from monitor.dedup.features import DATE_TERMS, KINDS, Features, kind_of, term_id

DATE_IDS = frozenset(term_id(t) for t in DATE_TERMS)
WEEKDAY_IDS = frozenset(term_id(t) for t in DATE_TERMS if not t[2:].isdigit())
_NUMBER = KINDS["n"]


@dataclass(frozen=True, slots=True)
class Profile:
    """The compact state of one story: what later articles are compared with."""

    terms: Mapping[int, float]
    """Top-K term ids and weights (sum of the members' unit vectors)."""
    title: frozenset[int]
    """Title stem ids of the members (capped)."""
    size: int
    """Number of member articles."""
    norm: float = field(default=0.0, compare=False)
    """Euclidean norm of `terms` (computed once: every candidate scoring needs it)."""
    num_norm: float = field(default=0.0, compare=False)
    """Norm of the number-kind part of `terms`."""

    def __post_init__(self) -> None:
        if self.norm > 0:
            return  # given by the store, which computes them in bulk
        total = numbers = 0.0
        for t, w in self.terms.items():
            sq = w * w
            total += sq
            if t & 3 == _NUMBER:
                numbers += sq
        object.__setattr__(self, "norm", math.sqrt(total) or 1.0)
        object.__setattr__(self, "num_norm", math.sqrt(numbers))


@dataclass(frozen=True, slots=True)
class Weighted:
    """An article as layer 3 sees it: a unit vector of typed terms."""

    terms: Mapping[int, float]
    """Term id -> weight, highest weight first (as `weigh` builds it)."""
    title: frozenset[int]
    names: Mapping[int, str] = field(default_factory=dict)
    """Term id -> readable term, to explain a decision."""
    salient: tuple[int, ...] = ()
    """The article's main names: repeated, highest weight first."""
    seen_norm: float = 1.0
    """Norm of the part of the unit vector made of terms the stream saw before."""
    num_norm: float = field(default=0.0, compare=False)
    dates: frozenset[int] = field(default=frozenset(), compare=False)
    keys: frozenset[int] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(self.terms))
        numbers = math.sqrt(sum(w * w for t, w in self.terms.items() if t & 3 == _NUMBER))
        object.__setattr__(self, "num_norm", numbers)
        object.__setattr__(self, "dates", self.keys & DATE_IDS)


def idf(df: int, n_docs: int) -> float:
    """Inverse document frequency, smoothed so an unseen term is rare, never infinite."""
    return max(math.log((n_docs + 1) / (df + 0.5)), 0.0)


def weigh(
    features: Features,
    df: Mapping[int, int],
    n_docs: int,
    settings: DedupSettings,
    ids: Iterable[int] | None = None,
) -> Weighted:
    """Turn features into a unit TF-IDF vector of at most `profile_terms` terms.

    `ids`: the term ids of `features.terms`, in order, when the caller has them.
    """
    raw: dict[int, float] = {}
    names: dict[int, str] = {}
    kinds = {
        "w": settings.word_weight,
        "d": settings.word_weight,
        "e": settings.entity_weight,
        "n": settings.number_weight,
        "q": settings.quote_weight,
    }
    log, get, kind_weight, word_weight = math.log, df.get, kinds.get, settings.word_weight
    top_n = math.log(n_docs + 1)
    tids = map(term_id, features.terms) if ids is None else ids
    for (term, count), tid in zip(features.terms.items(), tids, strict=True):
        kw = kind_weight(term[0], word_weight)
        if kw <= 0:
            continue
        # idf() inlined: this loop runs for every term of every article.
        inv = top_n - log(get(tid, 0) + 0.5)
        if inv <= 0:
            continue
        raw[tid] = (1.0 + log(count)) * inv * kw if count > 1 else inv * kw
        names[tid] = term
    top = sorted(raw.items(), key=itemgetter(1), reverse=True)[: settings.profile_terms]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    terms = {t: w / norm for t, w in top}
    title = frozenset(term_id("w:" + s) for s in features.title)
    # The names an article is about: those in its title, and those it repeats
    # most; a name the stream already sees everywhere (the topic) says nothing.
    floor = idf(int(n_docs * settings.salient_max_df), n_docs)
    repeated = sorted(
        (t for t in features.terms if t[0] == "e" and features.terms[t] >= 3),
        key=lambda t: -features.terms[t],
    )[: settings.salient_names]
    salient = tuple(
        tid
        for t in dict.fromkeys([*sorted(features.title_names), *repeated])
        if (tid := term_id(t)) in raw
        and idf(df.get(tid, 0), n_docs) > floor
        and not _common_word(features.surface.get(t, t[2:]), settings.salient_max_zipf)
    )
    keep = set(terms) | set(salient)
    # Terms no earlier article had cannot be shared with any story: leaving them
    # out of the article's norm scores what *can* match, so an article full of
    # one-off names is not pushed below the threshold by them.
    seen = math.sqrt(sum(w * w for t, w in terms.items() if df.get(t, 0) > 0))
    return Weighted(
        terms=terms,
        title=title,
        names={t: names[t] for t in keep},
        salient=salient,
        seen_norm=seen if settings.seen_norm else 1.0,
    )


@lru_cache(maxsize=65536)
def _common_word(word: str, max_zipf: float) -> bool:
    """A capitalised common word (President, South, News) is no main name."""
    return bool(zipf_frequency(word, "en") >= max_zipf)


def value(article: Weighted, profile: Profile, settings: DedupSettings) -> float:
    """The layer-3 score of an article against a story profile (the fast path of `score`)."""
    pt = profile.terms
    at = article.terms
    dot = ndot = 0.0
    # Intersect in C first: most of the 64 terms are not shared.
    for t in pt.keys() & article.keys:
        c = at[t] * pt[t]
        dot += c
        if t & 3 == _NUMBER:
            ndot += c
    cosine = min(dot / profile.norm / max(article.seen_norm, 1e-9), 1.0)
    # Shared numbers (11,000 troops; a 7.1 quake; 52-3 record) single out one
    # report among many on a topic: they get a cosine of their own.
    numbers = ndot / (article.num_norm * profile.num_norm) if ndot > 0 else 0.0
    if cosine < settings.number_min_cosine:
        # A lone shared number (35, Monday) between otherwise unrelated texts is
        # chance: numbers only confirm a story the words already point to.
        numbers = 0.0
    tw = settings.title_weight
    result = (1.0 - tw) * cosine + settings.number_cosine_weight * numbers
    if tw > 0 and article.title and profile.title:
        result += tw * len(article.title & profile.title) / len(article.title)
    if any(t not in pt for t in article.salient) and (
        not settings.symmetric_contrast or _lost_names(article, profile, settings)
    ):
        # None of the names this article is about is known to the story: the same
        # topic, most likely, but another event (another boxer, another quake).
        result *= settings.novel_penalty
    if settings.date_penalty < 1.0 and article.dates and _date_clash(article.dates, pt):
        # Both give the weekday or the year of what happened, and none agree:
        # the same kind of event on another day (the second quake, the next arrest).
        result *= settings.date_penalty
    return result


def _lost_names(article: Weighted, profile: Profile, settings: DedupSettings) -> list[int]:
    """The story's main names that the article does not mention."""
    names = sorted(
        (t for t in profile.terms if kind_of(t) == KINDS["e"]),
        key=lambda t: -profile.terms[t],
    )[: settings.salient_names]
    return [t for t in names if t not in article.terms]


def score(
    article: Weighted, profile: Profile, settings: DedupSettings
) -> tuple[float, dict[str, Any]]:
    """Score how likely an article reports the story of `profile`, with the reasons."""
    pt = profile.terms
    shared = [(t, w * pt[t]) for t, w in article.terms.items() if t in pt]
    cosine = min(sum(c for _, c in shared) / profile.norm / max(article.seen_norm, 1e-9), 1.0)
    title = 0.0
    if article.title and profile.title:
        title = len(article.title & profile.title) / len(article.title)
    ndot = sum(c for t, c in shared if t & 3 == _NUMBER)
    numbers = ndot / (article.num_norm * profile.num_norm) if ndot > 0 else 0.0
    if cosine < settings.number_min_cosine:
        numbers = 0.0
    missing = [t for t in article.salient if t not in pt]
    lost = _lost_names(article, profile, settings) if missing else []
    top = sorted(shared, key=lambda tc: -tc[1])[:8]
    details = {
        "cosine": round(cosine, 4),
        "title": round(title, 4),
        "numbers": round(numbers, 4),
        "shared": [article.names.get(t, str(t)) for t, _ in top],
        "missing": [article.names.get(t, str(t)) for t in missing],
        "story_names_missing": len(lost),
        "date_clash": bool(article.dates) and _date_clash(article.dates, pt),
    }
    return value(article, profile, settings), details


def _date_clash(da: frozenset[int], b: Mapping[int, float]) -> bool:
    """True when both state weekdays (or years) of the event and share none."""
    db = {t for t in b if t in DATE_IDS}
    if not db or da & db:
        return False
    wa, wb = da & WEEKDAY_IDS, db & WEEKDAY_IDS
    ya, yb = da - WEEKDAY_IDS, db - WEEKDAY_IDS
    return bool((wa and wb) or (ya and yb))


def new_profile(article: Weighted) -> Profile:
    """Start the profile of a new story from its first article."""
    return Profile(terms=dict(article.terms), title=article.title, size=1)


def merge(profile: Profile, article: Weighted, settings: DedupSettings) -> Profile:
    """Add an article to a story's profile, keeping it compact (top-K terms)."""
    terms = dict(profile.terms)
    for t, w in article.terms.items():
        terms[t] = terms.get(t, 0.0) + w
    top = dict(sorted(terms.items(), key=itemgetter(1), reverse=True)[: settings.profile_terms])
    title = profile.title | article.title
    if len(title) > settings.title_terms:
        title = frozenset(sorted(title)[: settings.title_terms])
    return Profile(terms=top, title=title, size=profile.size + 1)
