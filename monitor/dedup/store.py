"""Dedup state behind a narrow interface; SQLite (WAL) is the default implementation.

Everything the deduplicator remembers goes through `DedupStore`, so a shared store
(Redis, a database server) can replace SQLite when workers run on several
machines. Per story we keep a compact profile (top-K term ids and weights, title
stems, size, times), from which the in-memory index is rebuilt at start, and per
item its identity keys, MinHash bands and the source line that `story.updated`
lists; never the text.
"""

from __future__ import annotations

import array
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from monitor.dedup.docfreq import DocFreqs
from monitor.dedup.near import Signature, from_blob
from monitor.model import StorySource
from monitor.state import connect, migrate, savepoint


@dataclass(frozen=True, slots=True)
class IdentityHit:
    """An identity key that was seen before, and where its item went."""

    layer: str
    """The identity layer that matched: url, guid or text (`Match.layer`)."""
    item_id: str
    story_id: str


@dataclass(frozen=True, slots=True)
class StoryRecord:
    """A story as the store holds it (what the in-memory index is rebuilt from)."""

    story_id: str
    terms: Mapping[int, float]
    """Profile: term id -> weight, heaviest first."""
    title: tuple[int, ...]
    size: int
    first_time: float
    last_time: float
    """Event time of its first and newest member, POSIX seconds."""
    keep_time: float
    """Newest keep-from time of its items (expiry)."""
    dated: bool


@dataclass(frozen=True, slots=True)
class NearRecord:
    """An indexed item that shares an LSH band with the article."""

    item_id: str
    story_id: str
    signature: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """Everything stored about one newly assigned item."""

    item_id: str
    story_id: str
    time: float
    """Keep-from time, POSIX seconds: its event time, or the stream time when it
    arrived if later (a late item); the item and its keys expire a window after it.
    Matching uses the story's event time instead."""
    source: StorySource
    identity: tuple[tuple[str, int], ...]
    """(kind, key) pairs: url, guid, text."""
    signature: Signature | None
    """Its MinHash signature with its LSH band keys (None: too short for layer 2)."""


class DedupStore(Protocol):
    """What the deduplicator needs from its state, and nothing more."""

    def identity(self, keys: Sequence[tuple[str, int]]) -> IdentityHit | None:
        """Return the first known identity key among `keys`."""

    def near(self, bands: Sequence[int], limit: int) -> list[NearRecord]:
        """Items sharing at least one LSH band key."""

    def doc_freqs(self, terms: Sequence[int]) -> tuple[int, dict[int, int]]:
        """Number of documents counted, and the document frequency of each term."""

    def doc_counts(self, terms: Sequence[int]) -> tuple[int, list[int]]:
        """Number of documents counted, and the document frequency of each term, in order."""

    def stories(self) -> Iterator[StoryRecord]:
        """Every stored story (the live window), oldest first."""

    def story(self, story_id: str) -> StoryRecord | None:
        """One stored story by id."""

    def story_size(self, story_id: str) -> int | None:
        """The stored number of members of a story (None: not stored)."""

    def add(self, item: ItemRecord, story: StoryRecord, df_terms: Iterable[int]) -> None:
        """Record an item, its story's new profile, and its terms' counts."""

    def sources(self, story_id: str) -> tuple[StorySource, ...]:
        """The story's sources in arrival order."""

    def clock(self) -> float:
        """The latest event time seen (stream time), POSIX seconds; 0 when empty."""

    def purge(self, before: float) -> int:
        """Forget items kept from before `before` (stream time), and stories left without
        items; return the number of items purged."""

    def close(self) -> None:
        """Flush and close."""


def _pack(values: Iterable[float], fmt: str = "q") -> bytes:
    return array.array(fmt, values).tobytes()


_STORY_SELECT = (
    "SELECT story_id, terms, weights, title, size, first_t, last_t, keep_t, dated FROM dedup_story"
)


def _story(row: tuple[Any, ...]) -> StoryRecord:
    sid, terms, weights, title, size, first_t, last_t, keep_t, dated = row
    return StoryRecord(
        story_id=sid,
        terms=dict(zip(array.array("q", terms), array.array("f", weights), strict=True)),
        title=tuple(array.array("q", title)),
        size=size,
        first_time=first_t,
        last_time=last_t,
        keep_time=keep_t,
        dated=bool(dated),
    )


def _ts(d: datetime | None) -> float | None:
    return d.timestamp() if d is not None else None


def _dt(x: float | None) -> datetime | None:
    return datetime.fromtimestamp(x, UTC) if x is not None else None


def _source(row: tuple[Any, ...]) -> StorySource:
    item_id, outlet, url, title, published, fetched = row
    return StorySource(
        item_id=item_id,
        outlet=outlet,
        url=url,
        title=title,
        published=_dt(published),
        fetched=_dt(fetched) or datetime.fromtimestamp(0, UTC),
    )


def as_stored(src: StorySource) -> StorySource:
    """The source as `SqliteStore.sources` reads it back (times as UTC from POSIX seconds)."""
    row = (src.item_id, src.outlet, src.url, src.title, _ts(src.published), src.fetched.timestamp())
    return _source(row)


class SqliteStore:
    """`DedupStore` in a SQLite file (WAL), in tables prefixed `dedup_`."""

    def __init__(self, path: Path | None = None, *, connection: sqlite3.Connection | None = None):
        """Open the file at `path`, or use the caller's `connection` (autocommit mode).

        With a shared connection, `add()` nests inside the caller's transaction (it
        uses a SAVEPOINT), so a pipeline can commit a decision and its outbox row
        atomically; `close()` then leaves the connection open.
        """
        if connection is not None:
            if connection.isolation_level is not None:
                raise ValueError("the shared connection must use isolation_level=None")
            self._db, self._owned = connection, False
            migrate(connection)  # the tables (monitor.state)
        elif path is not None:
            self._db, self._owned = connect(path, any_thread=True), True
        else:
            raise ValueError("give a path or a connection")
        # One process owns the dedup state: the counters live in memory and are
        # written with the rows they describe (no read-back per item).
        self._df = DocFreqs(self._db)
        self._clock = self._df.meta("clock")

    def identity(self, keys: Sequence[tuple[str, int]]) -> IdentityHit | None:
        """Return the first known identity key among `keys`."""
        if not keys:
            return None
        marks = ",".join("?" * len(keys))
        found = {
            r[0]: r[1:]
            for r in self._db.execute(
                f"SELECT key, kind, item_id, story_id FROM dedup_identity WHERE key IN ({marks})",
                [k for _, k in keys],
            )
        }
        for _, key in keys:
            if key in found:
                kind, item_id, story_id = found[key]
                return IdentityHit(layer=kind, item_id=item_id, story_id=story_id)
        return None

    def near(self, bands: Sequence[int], limit: int) -> list[NearRecord]:
        """Items sharing at least one LSH band key."""
        if not bands:
            return []
        marks = ",".join("?" * len(bands))
        rows = self._db.execute(
            f"SELECT i.item_id, s.story_id, i.sig FROM dedup_item i "
            f"JOIN dedup_story s ON s.story = i.story WHERE i.item IN "
            f"(SELECT DISTINCT item FROM dedup_band WHERE band IN ({marks}) LIMIT ?) "
            f"AND i.sig IS NOT NULL",
            (*bands, limit),
        ).fetchall()
        return [NearRecord(item_id=r[0], story_id=r[1], signature=from_blob(r[2])) for r in rows]

    def doc_freqs(self, terms: Sequence[int]) -> tuple[int, dict[int, int]]:
        """Number of documents counted, and the document frequency of each term."""
        return self._df.get(terms)

    def doc_counts(self, terms: Sequence[int]) -> tuple[int, list[int]]:
        """Number of documents counted, and the document frequency of each term, in order."""
        return self._df.counts(terms)

    def stories(self) -> Iterator[StoryRecord]:
        """Every stored story (the live window), oldest first."""
        yield from map(_story, self._db.execute(_STORY_SELECT + " ORDER BY story"))

    def story(self, story_id: str) -> StoryRecord | None:
        """One stored story by id."""
        row = self._db.execute(_STORY_SELECT + " WHERE story_id=?", (story_id,)).fetchone()
        return None if row is None else _story(row)

    def story_size(self, story_id: str) -> int | None:
        """The stored number of members of a story (None: not stored)."""
        row = self._db.execute(
            "SELECT size FROM dedup_story WHERE story_id=?", (story_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def add(self, item: ItemRecord, story: StoryRecord, df_terms: Iterable[int]) -> None:
        """Record an item, its story's new profile, and its terms' counts."""
        db = self._db
        try:
            with savepoint(db, "dedup"):
                skey = self._put_story(story)
                src, sig = item.source, item.signature
                cur = db.execute(
                    "INSERT INTO dedup_item (item_id, story, t, outlet, url, title, published, "
                    "fetched, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.item_id,
                        skey,
                        item.time,
                        src.outlet,
                        src.url,
                        src.title,
                        _ts(src.published),
                        src.fetched.timestamp(),
                        sig.to_blob() if sig else None,
                    ),
                )
                if sig:
                    ikey = int(cur.lastrowid or 0)
                    db.executemany(
                        "INSERT OR IGNORE INTO dedup_band VALUES (?, ?)",
                        [(band, ikey) for band in sig.bands],
                    )
                db.executemany(
                    "INSERT OR IGNORE INTO dedup_identity VALUES (?, ?, ?, ?, ?)",
                    [
                        (key, kind, item.item_id, item.story_id, item.time)
                        for kind, key in item.identity
                    ],
                )
                self._df.count(df_terms, item.time)
                if item.time > self._clock:
                    self._clock = item.time
                    self._df.set_meta("clock", self._clock)
        except BaseException:
            # The counters may be ahead of the rolled-back rows: read them again.
            self._df.reload()
            self._clock = self._df.meta("clock")
            raise

    def _put_story(self, story: StoryRecord) -> int:
        # One upsert for a new story and a grown one (RETURNING: SQLite >= 3.35).
        row = self._db.execute(
            "INSERT INTO dedup_story (story_id, last_t, size, terms, weights, title, "
            "keep_t, first_t, dated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(story_id) DO UPDATE SET "
            "last_t=excluded.last_t, size=excluded.size, terms=excluded.terms, "
            "weights=excluded.weights, title=excluded.title, "
            "keep_t=max(keep_t, excluded.keep_t), first_t=excluded.first_t, "
            "dated=excluded.dated RETURNING story",
            (
                story.story_id,
                story.last_time,
                story.size,
                _pack(story.terms.keys()),
                _pack(story.terms.values(), "f"),
                _pack(story.title),
                story.keep_time,
                story.first_time,
                int(story.dated),
            ),
        ).fetchone()
        return int(row[0])

    def sources(self, story_id: str) -> tuple[StorySource, ...]:
        """The story's sources in arrival order."""
        rows = self._db.execute(
            "SELECT i.item_id, i.outlet, i.url, i.title, i.published, i.fetched FROM dedup_item i "
            "JOIN dedup_story s ON s.story = i.story WHERE s.story_id=? ORDER BY i.item",
            (story_id,),
        ).fetchall()
        return tuple(map(_source, rows))

    def clock(self) -> float:
        """The latest event time seen (stream time), POSIX seconds; 0 when empty."""
        return self._clock

    def purge(self, before: float) -> int:
        """Forget items kept from before `before` (stream time), and stories left without
        items; return the number of items purged."""
        db = self._db
        with savepoint(db, "dedup"):
            db.execute("DELETE FROM dedup_identity WHERE t < ?", (before,))
            # One scan of the band table per purge (purges are hours apart) is cheaper
            # than a second index on it for every insert.
            db.execute(
                "DELETE FROM dedup_band WHERE item IN "
                "(SELECT item FROM dedup_item WHERE t < ? AND sig IS NOT NULL)",
                (before,),
            )
            # Rows already cleared by an earlier purge are not written again.
            db.execute("UPDATE dedup_item SET sig=NULL WHERE t < ? AND sig IS NOT NULL", (before,))
            # A story goes when none of its items was seen since `before` (its event
            # time may be older: a late copy of old news keeps it for a window).
            old = "SELECT story FROM dedup_story WHERE keep_t < ?"
            purged = db.execute(
                f"DELETE FROM dedup_item WHERE story IN ({old})", (before,)
            ).rowcount
            db.execute("DELETE FROM dedup_story WHERE keep_t < ?", (before,))
            # Document frequencies are not expired with the window: they describe the
            # stream's language, and are halved every DF_HALVE_AT documents instead.
        return purged

    def close(self) -> None:
        """Flush and close (a shared connection stays open)."""
        if self._df.dirty:
            with savepoint(self._db, "dedup"):
                self._df.flush()
        if self._owned:
            self._db.close()
