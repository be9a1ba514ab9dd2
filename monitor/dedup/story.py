"""Layer 3, pure: weigh an article's features and compare it with story profiles.

A story is kept as a compact profile: the top-K typed terms of the sum of its
members' normalised vectors, and the stems of its titles. Term weights are
TF-IDF with document frequencies learned from the stream, multiplied per kind:
names and numbers say which *report* this is, plain words mostly which *topic*,
so in a one-topic stream the names and numbers must carry the decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from wordfreq import zipf_frequency

from monitor.config import DedupSettings
from monitor.dedup.features import DATE_TERMS, KINDS, Features, kind_of, term_id

DATE_IDS = frozenset(term_id(t) for t in DATE_TERMS)
WEEKDAY_IDS = frozenset(term_id(t) for t in DATE_TERMS if not t[2:].isdigit())


@dataclass(frozen=True, slots=True)
class Profile:
    """The compact state of one story: what later articles are compared with."""

    terms: Mapping[int, float]
    """Top-K term ids and weights (sum of the members' unit vectors)."""
    title: frozenset[int]
    """Title stem ids of the members (capped)."""
    size: int
    """Number of member articles."""


@dataclass(frozen=True, slots=True)
class Weighted:
    """An article as layer 3 sees it: a unit vector of typed terms."""

    terms: Mapping[int, float]
    title: frozenset[int]
    names: Mapping[int, str] = field(default_factory=dict)
    """Term id -> readable term, to explain a decision."""
    salient: tuple[int, ...] = ()
    """The article's main names: repeated, highest weight first."""
    seen_norm: float = 1.0
    """Norm of the part of the unit vector made of terms the stream saw before."""


def _kind_weight(term: str, settings: DedupSettings) -> float:
    kind = term[0]
    if kind == "e":
        return settings.entity_weight
    if kind == "n":
        return settings.number_weight
    if kind == "q":
        return settings.quote_weight
    return settings.word_weight


def idf(df: int, n_docs: int) -> float:
    """Inverse document frequency, smoothed so an unseen term is rare, never infinite."""
    return max(math.log((n_docs + 1) / (df + 0.5)), 0.0)


def weigh(
    features: Features, df: Mapping[int, int], n_docs: int, settings: DedupSettings
) -> Weighted:
    """Turn features into a unit TF-IDF vector of at most `profile_terms` terms."""
    raw: dict[int, float] = {}
    names: dict[int, str] = {}
    for term, count in features.terms.items():
        kw = _kind_weight(term, settings)
        if kw <= 0:
            continue
        tid = term_id(term)
        weight = (1.0 + math.log(count)) * idf(df.get(tid, 0), n_docs) * kw
        if weight > 0:
            raw[tid] = weight
            names[tid] = term
    top = sorted(raw.items(), key=lambda kv: -kv[1])[: settings.profile_terms]
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


def score(
    article: Weighted, profile: Profile, settings: DedupSettings
) -> tuple[float, dict[str, Any]]:
    """Score how likely an article reports the story of `profile`, with the reasons."""
    pnorm = math.sqrt(sum(w * w for w in profile.terms.values())) or 1.0
    shared = [(t, w * profile.terms[t]) for t, w in article.terms.items() if t in profile.terms]
    cosine = min(sum(c for _, c in shared) / pnorm / max(article.seen_norm, 1e-9), 1.0)
    title = 0.0
    if article.title and profile.title:
        title = len(article.title & profile.title) / len(article.title)
    tw = settings.title_weight
    numbers = _kind_cosine(article.terms, profile.terms, KINDS["n"])
    # Shared numbers (11,000 troops; a 7.1 quake; 52-3 record) single out one
    # report among many on a topic: they get a cosine of their own.
    value = (1.0 - tw) * cosine + tw * title + settings.number_cosine_weight * numbers
    missing = [t for t in article.salient if t not in profile.terms]
    lost = []
    if missing:
        names = sorted(
            (t for t in profile.terms if kind_of(t) == KINDS["e"]),
            key=lambda t: -profile.terms[t],
        )[: settings.salient_names]
        lost = [t for t in names if t not in article.terms]
    if missing and (lost or not settings.symmetric_contrast):
        # None of the names this article is about is known to the story: the same
        # topic, most likely, but another event (another boxer, another quake).
        value *= settings.novel_penalty
    clash = _date_clash(article.terms, profile.terms)
    if clash:
        # Both give the weekday or the year of what happened, and none agree:
        # the same kind of event on another day (the second quake, the next arrest).
        value *= settings.date_penalty
    top = sorted(shared, key=lambda tc: -tc[1])[:8]
    details = {
        "cosine": round(cosine, 4),
        "title": round(title, 4),
        "numbers": round(numbers, 4),
        "shared": [article.names.get(t, str(t)) for t, _ in top],
        "missing": [article.names.get(t, str(t)) for t in missing],
        "story_names_missing": len(lost),
        "date_clash": clash,
    }
    return value, details


def _date_clash(a: Mapping[int, float], b: Mapping[int, float]) -> bool:
    """True when both state weekdays (or years) of the event and share none."""
    da = {t for t in a if t in DATE_IDS}
    if not da:
        return False
    db = {t for t in b if t in DATE_IDS}
    if not db or da & db:
        return False
    wa, wb = da & WEEKDAY_IDS, db & WEEKDAY_IDS
    ya, yb = da - WEEKDAY_IDS, db - WEEKDAY_IDS
    return bool((wa and wb) or (ya and yb))


def _kind_cosine(a: Mapping[int, float], b: Mapping[int, float], kind: int) -> float:
    """Cosine of two vectors restricted to the terms of one kind."""
    sa = {t: w for t, w in a.items() if kind_of(t) == kind}
    if not sa:
        return 0.0
    sb = {t: w for t, w in b.items() if kind_of(t) == kind}
    dot = sum(w * sb[t] for t, w in sa.items() if t in sb)
    if dot <= 0:
        return 0.0
    na = math.sqrt(sum(w * w for w in sa.values()))
    nb = math.sqrt(sum(w * w for w in sb.values()))
    return dot / (na * nb)


def new_profile(article: Weighted) -> Profile:
    """Start the profile of a new story from its first article."""
    return Profile(terms=dict(article.terms), title=article.title, size=1)


def merge(profile: Profile, article: Weighted, settings: DedupSettings) -> Profile:
    """Add an article to a story's profile, keeping it compact (top-K terms)."""
    terms = dict(profile.terms)
    for t, w in article.terms.items():
        terms[t] = terms.get(t, 0.0) + w
    top = dict(sorted(terms.items(), key=lambda kv: -kv[1])[: settings.profile_terms])
    title = profile.title | article.title
    if len(title) > settings.title_terms:
        title = frozenset(sorted(title)[: settings.title_terms])
    return Profile(terms=top, title=title, size=profile.size + 1)
