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
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import compress, filterfalse, repeat
from pathlib import Path
from typing import Any, Protocol

from monitor.dedup.near import band_keys, from_blob
from monitor.model import StorySource

DF_HALVE_AT = 200_000
"""Halve all document frequencies when this many documents were counted: the
statistics then follow the recent stream and the numbers stay bounded."""
DF_CACHE = 100_000
"""Document frequencies kept in memory (~100 B each): the stream's common terms."""
DF_FLUSH_EVERY = 256
"""Document-frequency increments are written in one batch per this many items.
Per item they touched ~250 rows of a large B-tree (most of the per-item write
cost); a crash loses at most this many items' statistics, never an item."""


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
    signature: tuple[int, ...] | None
    near_threshold: float
    """Threshold the band layout was computed for."""


class DedupStore(Protocol):
    """What the deduplicator needs from its state, and nothing more."""

    def identity(self, keys: Sequence[tuple[str, int]]) -> IdentityHit | None:
        """Return the first known identity key among `keys`."""

    def near(self, bands: Sequence[int], limit: int) -> list[NearRecord]:
        """Items sharing at least one LSH band key."""

    def doc_freqs(self, terms: Sequence[int]) -> tuple[int, dict[int, int]]:
        """Number of documents counted, and the document frequency of each term."""

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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS dedup_meta (key TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_identity (
    key INTEGER PRIMARY KEY, kind TEXT NOT NULL, item_id TEXT NOT NULL,
    story_id TEXT NOT NULL, t REAL NOT NULL);
CREATE INDEX IF NOT EXISTS dedup_identity_t ON dedup_identity (t);
CREATE TABLE IF NOT EXISTS dedup_story (
    story INTEGER PRIMARY KEY, story_id TEXT NOT NULL UNIQUE, last_t REAL NOT NULL,
    size INTEGER NOT NULL, terms BLOB NOT NULL, weights BLOB NOT NULL, title BLOB NOT NULL,
    keep_t REAL NOT NULL DEFAULT 0);
DROP INDEX IF EXISTS dedup_story_t;
DROP TABLE IF EXISTS dedup_posting;
CREATE TABLE IF NOT EXISTS dedup_item (
    item INTEGER PRIMARY KEY, item_id TEXT NOT NULL, story INTEGER NOT NULL, t REAL NOT NULL,
    outlet TEXT NOT NULL, url TEXT, title TEXT NOT NULL, published REAL, fetched REAL NOT NULL,
    sig BLOB);
CREATE INDEX IF NOT EXISTS dedup_item_story ON dedup_item (story);
CREATE INDEX IF NOT EXISTS dedup_item_t ON dedup_item (t);
CREATE TABLE IF NOT EXISTS dedup_band (
    band INTEGER NOT NULL, item INTEGER NOT NULL, PRIMARY KEY (band, item)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_df (
    term INTEGER PRIMARY KEY, df INTEGER NOT NULL, last REAL NOT NULL);
DROP INDEX IF EXISTS dedup_df_last;
"""
_STORY_COLUMNS = {
    "keep_t": "REAL NOT NULL DEFAULT 0",
    "first_t": "REAL NOT NULL DEFAULT 0",
    "dated": "INTEGER NOT NULL DEFAULT 0",
}
"""Columns added since the first state files (added on open)."""


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
        elif path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._owned = True
        else:
            raise ValueError("give a path or a connection")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Reads dominate (postings, profiles, DF): map the file instead of copying
        # pages through SQLite's small default cache.
        self._db.execute("PRAGMA mmap_size=268435456")
        self._db.execute("PRAGMA cache_size=-8192")
        for statement in _SCHEMA.split(";"):
            # Statement by statement: executescript() would COMMIT a caller's transaction.
            if statement.strip():
                self._db.execute(statement)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(dedup_story)")}
        for name, decl in _STORY_COLUMNS.items():
            if name not in columns:  # a state file from before this column
                self._db.execute(f"ALTER TABLE dedup_story ADD COLUMN {name} {decl}")
                if name != "dated":
                    self._db.execute(f"UPDATE dedup_story SET {name} = last_t")
        # keep_t: the newest keep-from time of the story's items (what expiry reads).
        self._db.execute("CREATE INDEX IF NOT EXISTS dedup_story_keep ON dedup_story (keep_t)")
        # One process owns the dedup state: the counters live in memory and are
        # written with the rows they describe (no read-back per item).
        self._n_docs = self._meta("n_docs")
        self._clock = self._meta("clock")
        self._pending: Counter[int] = Counter()
        self._pending_last = 0.0
        self._pending_items = 0
        # Stored document frequencies (0 for a term not stored), kept exact: this
        # process is the only writer and updates it when it writes the rows.
        self._df_cache: dict[int, int] = {}

    def _meta(self, key: str) -> float:
        row = self._db.execute("SELECT value FROM dedup_meta WHERE key=?", (key,)).fetchone()
        return float(row[0]) if row else 0.0

    def _set_meta(self, key: str, value: float) -> None:
        self._db.execute(
            "INSERT INTO dedup_meta VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

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
        cache = self._df_cache
        unique = set(terms)
        # Cache look-ups and the selection of non-zero counts run in C (map,
        # filterfalse, compress): an article has hundreds of terms.
        ask = list(filterfalse(cache.__contains__, unique))
        for i in range(0, len(ask), 500):
            chunk = ask[i : i + 500]
            marks = ",".join("?" * len(chunk))
            cache.update(dict.fromkeys(chunk, 0))
            cache.update(
                self._db.execute(f"SELECT term, df FROM dedup_df WHERE term IN ({marks})", chunk)
            )
        stored = list(map(cache.__getitem__, unique))
        out = dict(compress(zip(unique, stored, strict=True), stored))
        if len(cache) > DF_CACHE:
            cache.clear()  # crude but bounded; refilled by the next look-ups
        pending = self._pending
        for t in filter(pending.__contains__, terms):
            out[t] = out.get(t, 0) + pending[t]
        return int(self._n_docs), out

    def _flush_df(self) -> None:
        """Write the batched document-frequency increments and the counters."""
        pending = self._pending
        if pending:
            # In key order: neighbouring rows of the B-tree are written together.
            keys = sorted(pending)
            self._db.executemany(
                "INSERT INTO dedup_df VALUES (?, ?, ?) ON CONFLICT(term) DO UPDATE SET "
                "df=df+excluded.df, last=max(last, excluded.last)",
                zip(keys, map(pending.__getitem__, keys), repeat(self._pending_last), strict=False),
            )
            cache = self._df_cache
            for t in filter(cache.__contains__, keys):
                cache[t] += pending[t]
            pending.clear()
        self._pending_items = 0
        self._set_meta("n_docs", self._n_docs)

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
        db.execute("SAVEPOINT dedup")
        try:
            # One upsert for a new story and a grown one (RETURNING: SQLite >= 3.35).
            skey = int(
                db.execute(
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
                ).fetchone()[0]
            )
            src = item.source
            sig = array.array("I", item.signature).tobytes() if item.signature else None
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
                    sig,
                ),
            )
            ikey = int(cur.lastrowid or 0)
            if item.signature:
                db.executemany(
                    "INSERT OR IGNORE INTO dedup_band VALUES (?, ?)",
                    [(b, ikey) for b in band_keys(item.signature, item.near_threshold)],
                )
            db.executemany(
                "INSERT OR IGNORE INTO dedup_identity VALUES (?, ?, ?, ?, ?)",
                [
                    (key, kind, item.item_id, item.story_id, item.time)
                    for kind, key in item.identity
                ],
            )
            self._pending.update(set(df_terms))  # counted in C
            self._pending_last = max(self._pending_last, item.time)
            self._pending_items += 1
            self._n_docs += 1
            if self._pending_items >= DF_FLUSH_EVERY or self._n_docs >= DF_HALVE_AT:
                self._flush_df()
            if self._n_docs >= DF_HALVE_AT:
                db.execute("UPDATE dedup_df SET df = df / 2")
                self._df_cache.clear()
                db.execute("DELETE FROM dedup_df WHERE df = 0")
                self._n_docs /= 2
                self._set_meta("n_docs", self._n_docs)
            if item.time > self._clock:
                self._clock = item.time
                self._set_meta("clock", self._clock)
            db.execute("RELEASE dedup")
        except BaseException:
            db.execute("ROLLBACK TO dedup")
            db.execute("RELEASE dedup")
            # The counters may be ahead of the rolled-back rows: read them again.
            self._n_docs = self._meta("n_docs")
            self._clock = self._meta("clock")
            self._pending.clear()
            self._pending_items = 0
            self._df_cache.clear()
            raise

    def sources(self, story_id: str) -> tuple[StorySource, ...]:
        """The story's sources in arrival order."""
        rows = self._db.execute(
            "SELECT i.item_id, i.outlet, i.url, i.title, i.published, i.fetched FROM dedup_item i "
            "JOIN dedup_story s ON s.story = i.story WHERE s.story_id=? ORDER BY i.item",
            (story_id,),
        ).fetchall()
        return tuple(
            StorySource(
                item_id=r[0],
                outlet=r[1],
                url=r[2],
                title=r[3],
                published=_dt(r[4]),
                fetched=_dt(r[5]) or datetime.fromtimestamp(0, UTC),
            )
            for r in rows
        )

    def clock(self) -> float:
        """The latest event time seen (stream time), POSIX seconds; 0 when empty."""
        return self._clock

    def purge(self, before: float) -> int:
        """Forget items kept from before `before` (stream time), and stories left without
        items; return the number of items purged."""
        db = self._db
        db.execute("SAVEPOINT dedup")
        try:
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
            db.execute("RELEASE dedup")
        except BaseException:
            db.execute("ROLLBACK TO dedup")
            db.execute("RELEASE dedup")
            raise
        return purged

    def close(self) -> None:
        """Flush and close (a shared connection stays open)."""
        if self._pending or self._pending_items:
            self._db.execute("SAVEPOINT dedup")
            self._flush_df()
            self._db.execute("RELEASE dedup")
        if self._owned:
            self._db.close()
