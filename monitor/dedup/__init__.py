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
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from monitor.config import DedupSettings
from monitor.dedup import near, story
from monitor.dedup.features import extract, key_id, normalise, term_id
from monitor.dedup.store import DedupStore, ItemRecord, SqliteStore, StoryRecord
from monitor.model import Article, StorySource
from monitor.urls import DEFAULT_TRACKING, canonical_url

__all__ = ["Assignment", "Deduplicator", "Match", "canonical_url"]


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


def identity_keys(article: Article, drop_params: tuple[str, ...]) -> list[tuple[str, int]]:
    """The layer-1 keys of an article: canonical URL, feed GUID, normalised text."""
    keys: list[tuple[str, int]] = []
    if article.url and (canon := canonical_url(article.url, drop_params)):
        keys.append(("url", key_id("url:" + canon)))
    if article.guid and article.guid.strip():
        guid = article.guid.strip()
        # A GUID that is a URL is canonicalised like one (feeds often use the link).
        keys.append(("guid", key_id("guid:" + (canonical_url(guid, drop_params) or guid))))
    if body := normalise(article.text):
        # = text_key(title + "\n" + text): a line break joins the two, and
        # normalise() folds the join into one space; the long text is folded once.
        keys.append(("text", key_id("t:" + (normalise(article.title) + " " + body).strip())))
    elif not keys and (title := normalise(article.title)):
        # A headline item (no text) with no URL or GUID: its title is all that names it.
        # With a URL, a same-titled item elsewhere is left to the story layer instead.
        keys.append(("text", key_id("t:" + title)))
    return keys


class Deduplicator:
    """The three dedup layers over one store; not thread-safe (one pipeline thread)."""

    def __init__(self, settings: DedupSettings, store: DedupStore) -> None:
        self.settings = settings
        self.store = store
        self._drop = DEFAULT_TRACKING + tuple(settings.tracking_params)
        self._window = settings.window_hours * 3600.0
        self._last_purge = store.clock()
        self._keys_of: Article | None = None
        self._keys: list[tuple[str, int]] = []

    @classmethod
    def open(cls, settings: DedupSettings, db_path: Path) -> Deduplicator:
        """Open (or create) the dedup state in the SQLite file at `db_path`."""
        return cls(settings, SqliteStore(db_path))

    @classmethod
    def on_connection(cls, settings: DedupSettings, connection: sqlite3.Connection) -> Deduplicator:
        """Use the worker's own SQLite connection (autocommit), to share its transactions."""
        return cls(settings, SqliteStore(connection=connection))

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def identity(self, article: Article) -> Match | None:
        """Layer 1: return the earlier item this article repeats, if any (cheap, read-only)."""
        hit = self.store.identity(self._identity_keys(article))
        if hit is None:
            return None
        return Match(layer=hit.kind, story_id=hit.story_id, item_id=hit.item_id)

    def assign(self, article: Article) -> Assignment:
        """Layers 2-3: join the article to a story or start one, and record it."""
        s = self.settings
        # Stories are matched on event time (publish time, else fetch time). State
        # expires on stream time (the newest event time seen), counted from when the
        # item arrived: a late item (old news seen today) is kept for a whole window
        # from now, not purged at the next purge, and a replay of dated material in
        # time order still expires as it goes.
        when = article.event_time.timestamp()
        seen = max(when, self.store.clock())
        self._maybe_purge(when)
        feats = extract(article.title, article.text)
        sig = None
        if feats.length >= s.near_min_words:
            sig = near.signature(
                article.text, s.near_shingle, s.near_num_perm, s.near_threshold, feats.body
            )
        tids = list(map(term_id, feats.terms))
        n_docs, df = self.store.doc_freqs(tids)
        vec = story.weigh(feats, df, n_docs, s, tids)

        chosen: StoryRecord | None = None
        layer: str | None = None
        best_score = 0.0
        details: dict[str, Any] = {}
        if sig is not None:
            best_j, best_item = 0.0, None
            for rec in self.store.near(sig.bands, s.max_candidates):
                j = near.jaccard(sig.values, rec.signature)
                if j > best_j:
                    best_j, best_item = j, rec
            if best_item is not None and best_j >= s.near_threshold:
                chosen = self.store.story(best_item.story_id)
                layer, best_score = "near", best_j
                details = {"near": {"jaccard": round(best_j, 4), "item": best_item.item_id}}
        if chosen is None:
            chosen, best_score, details = self._best_story(vec, when)
            if chosen is not None and best_score >= s.story_threshold:
                layer = "story"
            else:
                chosen = None

        if chosen is None:
            record = StoryRecord(article.item_id, story.new_profile(vec), when)
            previous = None
        else:
            profile = story.merge(chosen.profile, vec, s)
            record = StoryRecord(chosen.story_id, profile, max(chosen.last_time, when))
            previous = chosen.profile
        item = ItemRecord(
            item_id=article.item_id,
            story_id=record.story_id,
            time=seen,
            source=StorySource.of(article),
            identity=tuple(self._identity_keys(article)),
            signature=sig.values if sig else None,
            near_threshold=s.near_threshold,
            # vec.terms is ordered by weight already (a stable sort would keep it).
            vector=dict(islice(vec.terms.items(), s.member_terms)),
        )
        self.store.add(item, record, previous, s.index_terms, tids)
        # A new story's only source is this article: no read-back needed.
        sources = (item.source,) if chosen is None else self.store.sources(record.story_id)
        if chosen is None:
            return Assignment(
                story_id=record.story_id,
                new=True,
                sources=sources,
                score=round(best_score, 4) if details else None,
                details={"dedup": details} if details else {},
            )
        return Assignment(
            story_id=record.story_id,
            new=False,
            layer=layer,
            score=round(best_score, 4),
            sources=sources,
            details={"dedup": details},
        )

    def _best_story(
        self, vec: story.Weighted, when: float
    ) -> tuple[StoryRecord | None, float, dict[str, Any]]:
        s = self.settings
        query = list(islice(vec.terms, s.query_terms))  # ordered by weight already
        best: StoryRecord | None = None
        best_score, best_details = 0.0, dict[str, Any]()
        scored = [
            (story.value(vec, rec.profile, s), rec)
            for rec in self.store.candidates(
                query, when - self._window, s.posting_limit, s.max_candidates, when + self._window
            )
        ]
        scored.sort(key=itemgetter(0), reverse=True)  # stable: ties keep their order
        if s.member_weight > 0 and scored:
            scored = self._with_members(vec, scored)
        if scored and scored[0][0] > 0:
            best_score, best = scored[0]
        if best is not None:
            # The reasons are worked out for the best candidate only.
            centroid, best_details = story.score(vec, best.profile, s)
            best_details["centroid"] = round(centroid, 4)
            best_details = {
                "candidate": best.story_id,
                "score": round(best_score, 4),
                **best_details,
            }
        return best, best_score, best_details

    def _with_members(
        self, vec: story.Weighted, scored: list[tuple[float, StoryRecord]]
    ) -> list[tuple[float, StoryRecord]]:
        """Blend the best candidates' centroid scores with the mean score over their members.

        A centroid averages a story's members, so an article that matches its
        topic words can pass while matching no single member well; the sibling
        event of a story (same people, another day) is then caught out by the
        members it does not resemble.
        """
        s = self.settings
        top = [rec for _, rec in scored[: s.member_check] if rec.profile.size > 1]
        if not top:
            return scored
        members = self.store.members([rec.story_id for rec in top], s.member_limit)
        alpha = s.member_weight
        out = []
        for value, rec in scored:
            mem = members.get(rec.story_id)
            if mem:
                pairs = sum(story.value(vec, m, s) for m in mem) / len(mem)
                value = (1.0 - alpha) * value + alpha * pairs
            out.append((value, rec))
        out.sort(key=itemgetter(0), reverse=True)
        return out

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
            self._last_purge = clock
