"""Story deduplication: identity, near-verbatim copies, the same story rewritten.

    dedup = Deduplicator.open(settings.dedup, settings.resolve(settings.state.path))
    if (hit := dedup.identity(article)) is not None:   # layer 1, cheap: run first
        ...  # duplicate of hit.story_id (layer hit.layer), publish nothing
    result = dedup.assign(article)                      # layers 2 and 3, registers it
    if result.new: ...  # story.created, key result.story_id
    else: ...           # story.updated with result.sources

See docs/dedup.md for the design and the measured figures.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.config import DedupSettings
from monitor.dedup import near
from monitor.dedup.cluster import StoryClusterer, Verdict
from monitor.dedup.features import extract, key_id, term_id, text_key
from monitor.dedup.index import Story
from monitor.dedup.model import Model, load
from monitor.dedup.near import Signature
from monitor.dedup.store import DedupStore, ItemRecord, SqliteStore, StoryRecord, as_stored
from monitor.dedup.vectors import PriorDocs, Vector, weigh
from monitor.model import Article, StorySource
from monitor.urls import DEFAULT_TRACKING, canonical_url

__all__ = ["Assignment", "Deduplicator", "Match", "drop_params", "identity_keys"]

NEAR_SHINGLE = 5
"""Words per shingle for layer 2."""
NEAR_NUM_PERM = 64
"""MinHash permutations (8 bands of 8 rows at the 0.7 threshold)."""
NEAR_MIN_WORDS = 25
"""Texts shorter than this skip layer 2 (too few shingles to judge)."""
NEAR_CANDIDATES = 30
"""Items sharing a band that are compared."""
SOURCE_LISTS_KEPT = 256
"""Stories whose source lists are kept between updates (a `story.updated` carries them all);
bounds the memory: ~300 B per kept source."""


@dataclass(frozen=True, slots=True)
class Match:
    """Layer 1 hit: the article was seen before (same URL, GUID or text)."""

    layer: str
    """`url`, `guid` or `text`."""
    story_id: str
    item_id: str
    """The item it repeats."""

    @property
    def details(self) -> dict[str, Any]:
        """What `--explain` should say about it."""
        return {"dedup": {"layer": self.layer, "same_as": self.item_id}}


@dataclass(frozen=True, slots=True)
class Assignment:
    """Layers 2-3 verdict: a new story, or the story the article joined."""

    story_id: str
    new: bool
    layer: str | None = None
    """`near` or `story` when the article joined a story; None for a new story."""
    score: float | None = None
    sources: tuple[StorySource, ...] = ()
    """The story's full current list of sources, this article included."""
    details: dict[str, Any] = field(default_factory=dict)
    """The best candidate's features and score, for `--explain`."""


def drop_params(settings: DedupSettings) -> tuple[str, ...]:
    """The query parameters identity keys drop from URLs: the defaults and the config's."""
    return DEFAULT_TRACKING + tuple(settings.tracking_params)


def identity_keys(
    article: Article,
    drop_params: tuple[str, ...],
    canonical: Mapping[str, str | None] | None = None,
) -> list[tuple[str, int]]:
    """The layer-1 keys of an article: canonical URL, feed GUID, normalised text.

    `canonical` maps a URL or GUID to its `canonical_url(value, drop_params)` worked out
    before (in a worker process); a value it lacks is canonicalised here.
    """
    known = canonical or {}

    def canon_of(value: str) -> str | None:
        return known[value] if value in known else canonical_url(value, drop_params)

    keys: list[tuple[str, int]] = []
    if article.url and (canon := canon_of(article.url)):
        keys.append(("url", key_id("url:" + canon)))
    if article.guid and article.guid.strip():
        guid = article.guid.strip()
        # A GUID that is a URL is canonicalised like one (feeds often use the link).
        keys.append(("guid", key_id("guid:" + (canon_of(guid) or guid))))
    if article.text.strip():
        keys.append(("text", text_key(article.title, article.text)))
    elif not keys and article.title.strip():
        # A headline item (no text) with no URL or GUID: its title is all that names it.
        # With a URL, a same-titled item elsewhere is left to the story layer instead.
        keys.append(("text", text_key(article.title)))
    return keys


class Deduplicator:
    """The three dedup layers over one store; not thread-safe (one pipeline thread)."""

    def __init__(
        self,
        settings: DedupSettings,
        store: DedupStore,
        model: Model | None = None,
        topic: Sequence[str] = (),
    ):
        """`topic`: what the relevance rules select items by
        (`RelevanceFilter.topic_forms`; empty when every item passes): those words
        count as common in the stream from its first item (`vectors.PriorDocs`)."""
        self.settings = settings
        self.store = store
        self._prior = PriorDocs(topic)
        self._drop = drop_params(settings)
        self._window = settings.window_hours * 3600.0
        self._last_purge = store.clock()
        self._keys_of: Article | None = None
        self._sources: OrderedDict[str, tuple[StorySource, ...]] = OrderedDict()
        """Source lists of recently updated stories (`_joined_sources`), oldest first."""
        self._keys: list[tuple[str, int]] = []
        self.clusterer = StoryClusterer(model or load(), self._window, settings.story_threshold)
        # The store is the source of truth: the in-memory index is rebuilt from it.
        for rec in store.stories():
            self._put(rec)

    @classmethod
    def open(
        cls, settings: DedupSettings, db_path: Path, topic: Sequence[str] = ()
    ) -> Deduplicator:
        """Open (or create) the dedup state in the SQLite file at `db_path`."""
        return cls(settings, SqliteStore(db_path), topic=topic)

    @classmethod
    def on_connection(
        cls, settings: DedupSettings, connection: sqlite3.Connection, topic: Sequence[str] = ()
    ) -> Deduplicator:
        """Use the worker's own SQLite connection (autocommit), to share its transactions."""
        return cls(settings, SqliteStore(connection=connection), topic=topic)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def given_canonical(self, article: Article, canonical: Mapping[str, str | None]) -> None:
        """Work out the article's identity keys now, with its URL and GUID canonicalised
        before (`identity_keys`' `canonical`, with `drop_params` of the same settings)."""
        self._keys = identity_keys(article, self._drop, canonical)
        self._keys_of = article

    def identity(self, article: Article) -> Match | None:
        """Layer 1: return the earlier item this article repeats, if any (cheap, read-only)."""
        hit = self.store.identity(self._identity_keys(article))
        if hit is None:
            return None
        return Match(layer=hit.layer, story_id=hit.story_id, item_id=hit.item_id)

    def assign(self, article: Article) -> Assignment:
        """Layers 2-3: join the article to a story or start one, and record it."""
        # Stories are matched on event time (publish time, else fetch time). State
        # expires on stream time (the newest event time seen), counted from when the
        # item arrived: a late item (old news seen today) is kept for a whole window.
        when = article.event_time.timestamp()
        dated = article.published is not None
        sig, tids, vec = self._profile(article)

        joined: Story | None = None
        layer: str | None = None
        score: float | None = None
        details: dict[str, Any] = {}
        if sig is not None:
            best_j, best_item = 0.0, None
            for rec in self.store.near(sig.bands, NEAR_CANDIDATES):
                j = near.jaccard(sig.values, rec.signature)
                if j > best_j:
                    best_j, best_item = j, rec
            if best_item is not None and best_j >= self.settings.near_threshold:
                joined = self._checked(self.clusterer.index.get(best_item.story_id))
                if joined is not None:
                    layer, score = "near", best_j
                    details = {"near": {"jaccard": round(best_j, 4), "item": best_item.item_id}}
        if joined is None:
            verdict = self._decide(vec, when, dated)
            details = self.clusterer.explain(vec, verdict)
            if details:
                score = verdict.probability
            if verdict.joined and verdict.candidate is not None:
                joined, layer = verdict.candidate.story, "story"

        size_before = 0 if joined is None else joined.size
        story, item = self._register(article, vec, sig, tids, article.item_id, joined)
        # A new story's only source is this article: no read-back needed.
        if joined is None:
            sources: tuple[StorySource, ...] = (item.source,)
        else:
            sources = self._joined_sources(story.story_id, size_before, item.source)
        return Assignment(
            story_id=story.story_id,
            new=joined is None,
            layer=layer,
            score=None if score is None else round(score, 4),
            sources=sources,
            details={"dedup": details} if details else {},
        )

    def restore(self, article: Article, story_id: str) -> bool:
        """Record an article as a member of `story_id` as it was published, without scoring.

        Rebuilds the state from published story events (the story tier's take-over):
        the decision was taken before, so only the bookkeeping of `assign` runs. An
        article already known by an identity key is skipped (False).
        """
        if self.identity(article) is not None:
            return False
        sig, tids, vec = self._profile(article)
        joined = self._checked(self.clusterer.index.get(story_id))
        self._register(article, vec, sig, tids, story_id, joined)
        return True

    def _profile(self, article: Article) -> tuple[Signature | None, list[int], Vector]:
        """The article's MinHash signature (None: too short), term ids and weighted vector."""
        self._maybe_purge(article.event_time.timestamp())
        feats = extract(article.title, article.text)
        sig = None
        if feats.length >= NEAR_MIN_WORDS:
            sig = near.signature(
                article.text, NEAR_SHINGLE, NEAR_NUM_PERM, self.settings.near_threshold, feats.body
            )
        tids = list(map(term_id, feats.terms))
        n_docs, dfs = self.store.doc_counts(tids)
        return sig, tids, weigh(feats, dfs, n_docs, tids, self._prior.__getitem__)

    def _register(
        self,
        article: Article,
        vec: Vector,
        sig: Signature | None,
        tids: list[int],
        story_id: str,
        joined: Story | None,
    ) -> tuple[Story, ItemRecord]:
        """Add the article to `joined` (or start story `story_id`), in memory and in the store."""
        when = article.event_time.timestamp()
        dated = article.published is not None
        seen = max(when, self.store.clock())
        story = self.clusterer.add(vec, when, seen, dated, story_id, joined)
        item = ItemRecord(
            item_id=article.item_id,
            story_id=story.story_id,
            time=seen,
            source=StorySource.of(article),
            identity=tuple(self._identity_keys(article)),
            signature=sig,
        )
        record = StoryRecord(
            story_id=story.story_id,
            terms=self.clusterer.index.terms(story),
            title=tuple(story.title),
            size=story.size,
            first_time=story.first_t,
            last_time=story.last_t,
            keep_time=story.keep_t,
            dated=story.dated,
        )
        self.store.add(item, record, tids)
        return story, item

    def _joined_sources(
        self, story_id: str, size_before: int, source: StorySource
    ) -> tuple[StorySource, ...]:
        """The story's sources with `source` just added: the list kept from the story's last
        update plus this one, else read back from the store. A kept list is used only when
        its length is the story's stored size before this item (checked by `_checked`
        against the store just before), so a write the caller rolled back is never in it."""
        kept = self._sources.pop(story_id, None)
        if kept is not None and len(kept) == size_before:
            sources = (*kept, as_stored(source))
        else:
            sources = self.store.sources(story_id)
        self._sources[story_id] = sources
        if len(self._sources) > SOURCE_LISTS_KEPT:
            self._sources.popitem(last=False)
        return sources

    def _decide(self, vec: Vector, when: float, dated: bool) -> Verdict:
        """Layer 3; a candidate whose in-memory state the store does not confirm is
        reloaded and the decision taken again (after a caller's rollback)."""
        while True:
            verdict = self.clusterer.decide(vec, when, dated)
            cand = verdict.candidate
            if cand is None or self._checked(cand.story) is cand.story:
                return verdict

    def _checked(self, story: Story | None) -> Story | None:
        """The story as the store has it: a caller may have rolled back our last write."""
        if story is None:
            return None
        if self.store.story_size(story.story_id) == story.size:
            return story
        rec = self.store.story(story.story_id)
        if rec is None:
            self.clusterer.index.drop(story.story_id)
            return None
        return self._put(rec)

    def _put(self, rec: StoryRecord) -> Story:
        return self.clusterer.index.put(
            rec.story_id,
            rec.terms,
            rec.title,
            rec.size,
            (rec.first_time, rec.last_time, rec.keep_time),
            rec.dated,
        )

    def _identity_keys(self, article: Article) -> list[tuple[str, int]]:
        # The pipeline calls identity() then assign() with the same article:
        # canonicalise its URL and hash its text once.
        if self._keys_of is not article:
            self._keys = identity_keys(article, self._drop)
            self._keys_of = article
        return self._keys

    def _maybe_purge(self, when: float) -> None:
        # Purge on stream time (the newest event time), not wall time, so replays
        # can drive the clock; at most once per 1/24 of the window.
        clock = max(self.store.clock(), when)
        if clock - self._last_purge >= self._window / 24:
            self.store.purge(clock - self._window)
            self.clusterer.index.purge(clock - self._window)
            self._sources.clear()
            self._last_purge = clock
