"""The live window's stories in memory: compact profiles and an inverted index.

A story is the sum of its members' unit vectors (its `PROFILE_TERMS` heaviest terms, kept in
two packed arrays), its title stems, its size and its times. The inverted index
lists each story under its `INDEX_TERMS` heaviest terms; an article looks up its
`QUERY_TERMS` heaviest terms, reads the `POSTING_LIMIT` most recent stories of
each, and the stories sharing the most of them are scored. Nothing here is the
source of truth: the SQLite store is, and the index is rebuilt from it at start.
"""

from __future__ import annotations

import array
import math
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain, islice
from operator import itemgetter, mul

from monitor.dedup.vectors import PROFILE_TERMS

INDEX_TERMS = 24
"""Heaviest terms of a story under which it is listed."""
QUERY_TERMS = 24
"""Heaviest terms of an article looked up."""
POSTING_LIMIT = 200
"""Most recent stories read per looked-up term (bounds the cost of common terms)."""
MAX_CANDIDATES = 30
"""Stories scored per article."""
TITLE_TERMS = 24
"""Title stems kept per story."""
TERMS_CACHE = 2048
"""Story profiles kept unpacked as dicts (the stories a live stream keeps scoring)."""


class Story:
    """One live story: a packed profile and its times."""

    __slots__ = (
        "dated",
        "first_t",
        "ids",
        "keep_t",
        "key",
        "last_t",
        "norm",
        "size",
        "story_id",
        "title",
        "weights",
    )

    def __init__(
        self,
        key: int,
        story_id: str,
        terms: Mapping[int, float],
        title: Iterable[int],
        size: int,
        times: tuple[float, float, float],
        dated: bool,
    ) -> None:
        self.key = key
        self.story_id = story_id
        self.ids = array.array("q", terms.keys())
        self.weights = array.array("f", terms.values())
        self.title = array.array("q", islice(dict.fromkeys(title), TITLE_TERMS))
        self.size = size
        self.first_t, self.last_t, self.keep_t = times
        """Event time of its first and newest member; newest keep-from time (expiry)."""
        self.dated = dated
        """Its members carry publish dates (else its times are stream times)."""
        self.norm = math.sqrt(sum(map(mul, self.weights, self.weights))) or 1.0

    def terms(self) -> dict[int, float]:
        """The profile as a dict, heaviest first."""
        return dict(zip(self.ids, self.weights, strict=True))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story found for an article, with the article's cosine to it."""

    story: Story
    terms: dict[int, float]
    cosine: float


def merged(profile: Mapping[int, float], vec: Mapping[int, float]) -> dict[int, float]:
    """Add a member's unit vector to a profile; keep the heaviest terms, heaviest first."""
    terms = dict(profile)
    for t, w in vec.items():
        terms[t] = terms.get(t, 0.0) + w
    return dict(sorted(terms.items(), key=itemgetter(1), reverse=True)[:PROFILE_TERMS])


def cosine(article: Mapping[int, float], terms: Mapping[int, float], norm: float) -> float:
    """Cosine of a unit article vector and a profile of norm `norm`."""
    shared = article.keys() & terms.keys()
    # Products summed in C, in the shared set's order (the same sum as a generator's).
    dot: float = sum(map(mul, map(article.__getitem__, shared), map(terms.__getitem__, shared)))
    return min(dot / norm, 1.0)


class StoryIndex:
    """Stories of the window by key and id, and the inverted index over their terms."""

    def __init__(self) -> None:
        self.stories: dict[int, Story] = {}
        self.keys: dict[str, int] = {}
        self.postings: dict[int, list[int]] = {}
        self._next = 0
        self._entries = 0
        self._dead = 0
        self._cache: OrderedDict[int, dict[int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.stories)

    def get(self, story_id: str) -> Story | None:
        """A live story by id."""
        key = self.keys.get(story_id)
        return None if key is None else self.stories[key]

    def terms(self, story: Story) -> dict[int, float]:
        """A story's profile as a dict (cached for the most recently scored stories)."""
        cache = self._cache
        got = cache.get(story.key)
        if got is None:
            got = cache[story.key] = story.terms()
            if len(cache) > TERMS_CACHE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(story.key)
        return got

    def put(
        self,
        story_id: str,
        terms: Mapping[int, float],
        title: Iterable[int],
        size: int,
        times: tuple[float, float, float],
        dated: bool,
    ) -> Story:
        """Add a story or replace its profile (`terms` heaviest first); index new top terms."""
        key = self.keys.get(story_id)
        old: set[int] = set()
        if key is None:
            key = self.keys[story_id] = self._next
            self._next += 1
        else:
            old = set(islice(self.stories[key].ids, INDEX_TERMS))
            self._cache.pop(key, None)
        story = self.stories[key] = Story(key, story_id, terms, title, size, times, dated)
        postings = self.postings
        for t in islice(terms, INDEX_TERMS):
            if t not in old:
                postings.setdefault(t, []).append(key)
                self._entries += 1
        return story

    def candidates(
        self, article: Mapping[int, float], since: float, until: float
    ) -> list[Candidate]:
        """Stories with event time in [since, until] sharing top terms, best cosine first."""
        postings = self.postings
        lists = [postings.get(t, ()) for t in islice(article, QUERY_TERMS)]
        counts = Counter(chain.from_iterable(lst[-POSTING_LIMIT:] for lst in lists))
        out: list[Candidate] = []
        stories = self.stories
        for key, _ in counts.most_common():
            story = stories.get(key)
            if story is None or not since <= story.last_t <= until:
                continue
            terms = self.terms(story)
            out.append(Candidate(story, terms, cosine(article, terms, story.norm)))
            if len(out) >= MAX_CANDIDATES:
                break
        out.sort(key=lambda c: c.cosine, reverse=True)
        return out

    def drop(self, story_id: str) -> None:
        """Forget one story (its postings go at the next compaction)."""
        key = self.keys.pop(story_id, None)
        if key is not None:
            story = self.stories.pop(key)
            self._cache.pop(key, None)
            self._dead += min(len(story.ids), INDEX_TERMS)

    def purge(self, before: float) -> list[str]:
        """Drop stories whose newest keep-from time is before `before`; return their ids."""
        gone = [s for s in self.stories.values() if s.keep_t < before]
        for story in gone:
            del self.stories[story.key]
            del self.keys[story.story_id]
            self._cache.pop(story.key, None)
            self._dead += min(len(story.ids), INDEX_TERMS)
        if self._dead * 2 > self._entries:
            self._compact()
        return [s.story_id for s in gone]

    def _compact(self) -> None:
        """Rewrite the posting lists without dead stories (amortised: when half are dead)."""
        live = self.stories.__contains__
        fresh: dict[int, list[int]] = {}
        entries = 0
        for t, keys in self.postings.items():
            kept = list(filter(live, keys))
            if kept:
                fresh[t] = kept
                entries += len(kept)
        self.postings, self._entries, self._dead = fresh, entries, 0
