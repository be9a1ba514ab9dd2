"""Dedup state behind a narrow interface; SQLite (WAL) is the default implementation.

Everything the deduplicator remembers goes through `DedupStore`, so a shared store
(Redis, a database server) can replace SQLite when workers run on several
machines. Per story we keep a compact profile (top-K term ids and weights), its
inverted-index postings, and per item its identity keys, MinHash bands and the
source line that `story.updated` lists; never the text.
"""

from __future__ import annotations

import array
import math
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import compress, filterfalse, islice, repeat
from operator import ge, itemgetter
from pathlib import Path
from typing import Protocol

import numpy as np

from monitor.dedup.near import band_keys, from_blob
from monitor.dedup.story import Profile
from monitor.model import StorySource

DF_HALVE_AT = 200_000
"""Halve all document frequencies when this many documents were counted: the
statistics then follow the recent stream and the numbers stay bounded."""
PROFILE_CACHE = 1024
"""Story profiles kept unpacked in memory (~6 KB each), most recently scored first."""
DF_CACHE = 100_000
"""Document frequencies kept in memory (~100 B each): the stream's common terms."""
DF_FLUSH_EVERY = 256
"""Document-frequency increments are written in one batch per this many items.
Per item they touched ~250 rows of a large B-tree (most of the per-item write
cost); a crash loses at most this many items' statistics, never an item."""


@dataclass(frozen=True, slots=True)
class IdentityHit:
    """An identity key that was seen before, and where its item went."""

    kind: str
    item_id: str
    story_id: str


@dataclass(frozen=True, slots=True)
class StoryRecord:
    """A story as the store holds it."""

    story_id: str
    profile: Profile
    last_time: float


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
    vector: Mapping[int, float] | None = None
    """The member's own top terms, for member-level scoring of its story."""


class DedupStore(Protocol):
    """What the deduplicator needs from its state, and nothing more."""

    def identity(self, keys: Sequence[tuple[str, int]]) -> IdentityHit | None:
        """Return the first known identity key among `keys`."""

    def near(self, bands: Sequence[int], limit: int) -> list[NearRecord]:
        """Items sharing at least one LSH band key."""

    def doc_freqs(self, terms: Sequence[int]) -> tuple[int, dict[int, int]]:
        """Number of documents counted, and the document frequency of each term."""

    def candidates(
        self,
        terms: Sequence[int],
        since: float,
        posting_limit: int,
        limit: int,
        until: float = math.inf,
    ) -> list[StoryRecord]:
        """Stories listed under any of `terms`, most shared first, with event time in
        [`since`, `until`]."""

    def story(self, story_id: str) -> StoryRecord | None:
        """One story by id."""

    def members(self, story_ids: Sequence[str], per_story: int) -> dict[str, list[Profile]]:
        """The most recent member vectors of each story, as one-member profiles."""

    def add(
        self,
        item: ItemRecord,
        story: StoryRecord,
        previous: Profile | None,
        index_terms: int,
        df_terms: Iterable[int],
    ) -> None:
        """Record an item, its story's new profile and postings, and its terms' counts."""

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
CREATE TABLE IF NOT EXISTS dedup_posting (
    term INTEGER NOT NULL, story INTEGER NOT NULL, PRIMARY KEY (term, story)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_item (
    item INTEGER PRIMARY KEY, item_id TEXT NOT NULL, story INTEGER NOT NULL, t REAL NOT NULL,
    outlet TEXT NOT NULL, url TEXT, title TEXT NOT NULL, published REAL, fetched REAL NOT NULL,
    sig BLOB, vec BLOB);
CREATE INDEX IF NOT EXISTS dedup_item_story ON dedup_item (story);
CREATE INDEX IF NOT EXISTS dedup_item_t ON dedup_item (t);
CREATE TABLE IF NOT EXISTS dedup_band (
    band INTEGER NOT NULL, item INTEGER NOT NULL, PRIMARY KEY (band, item)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_df (
    term INTEGER PRIMARY KEY, df INTEGER NOT NULL, last REAL NOT NULL);
DROP INDEX IF EXISTS dedup_df_last;
"""


def _pack_profile(p: Profile) -> tuple[bytes, bytes, bytes]:
    terms = array.array("q", p.terms.keys()).tobytes()
    weights = array.array("f", p.terms.values()).tobytes()
    return terms, weights, array.array("q", sorted(p.title)).tobytes()


def _unpack_profile(terms: bytes, weights: bytes, title: bytes, size: int) -> Profile:
    ids = np.frombuffer(terms, dtype=np.int64)
    ws = np.frombuffer(weights, dtype=np.float32).astype(np.float64)
    # The norms in numpy: a Python loop over 64 terms per candidate cost more
    # than the rest of the scoring.
    sq = ws * ws
    return Profile(
        terms=dict(zip(ids.tolist(), ws.tolist(), strict=True)),
        title=frozenset(array.array("q", title)),
        size=size,
        norm=float(np.sqrt(sq.sum())) or 1.0,
        num_norm=float(np.sqrt(sq[(ids & 3) == 2].sum())),
    )


def _pack_vector(vec: Mapping[int, float]) -> bytes:
    """A member's terms as 12 bytes each: int64 id then float32 weight, ids first."""
    return array.array("q", vec.keys()).tobytes() + array.array("f", vec.values()).tobytes()


def _unpack_vector(blob: bytes) -> Profile:
    n = len(blob) // 12
    return _unpack_profile(blob[: 8 * n], blob[8 * n :], b"", 1)


def _index_terms(p: Profile | None, n: int) -> set[int]:
    if p is None:
        return set()
    weights = list(p.terms.values())
    if all(map(ge, weights, islice(weights, 1, None))):
        # Already ordered by weight (as profiles are built and stored): a stable
        # sort would change nothing, so the first n are the top n.
        return set(islice(p.terms, n))
    return {t for t, _ in sorted(p.terms.items(), key=itemgetter(1), reverse=True)[:n]}


@lru_cache(maxsize=8)
def _posting_sql(n: int) -> str:
    """The posting look-up for `n` terms, each limited to its most recent stories."""
    one = (
        "SELECT story FROM (SELECT story FROM dedup_posting WHERE term=? "
        "ORDER BY story DESC LIMIT ?)"
    )
    return (
        f"SELECT story FROM ({' UNION ALL '.join([one] * n)}) "
        "GROUP BY story ORDER BY count(*) DESC, story DESC LIMIT ?"
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
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(dedup_item)")}
        if "vec" not in columns:  # a state file from before member vectors
            self._db.execute("ALTER TABLE dedup_item ADD COLUMN vec BLOB")
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(dedup_story)")}
        if "keep_t" not in columns:  # a state file from before expiry from arrival
            self._db.execute("ALTER TABLE dedup_story ADD COLUMN keep_t REAL NOT NULL DEFAULT 0")
            self._db.execute("UPDATE dedup_story SET keep_t = last_t")
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
        # Profiles read for scoring, by story key: a live stream keeps scoring the
        # same recent stories. Filled on read, dropped on write (so a caller's
        # rollback can never leave a profile here that the file does not have).
        self._profiles: OrderedDict[int, StoryRecord] = OrderedDict()

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
                return IdentityHit(kind=kind, item_id=item_id, story_id=story_id)
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

    def candidates(
        self,
        terms: Sequence[int],
        since: float,
        posting_limit: int,
        limit: int,
        until: float = math.inf,
    ) -> list[StoryRecord]:
        """Stories listed under any of `terms`, most shared first, with event time in
        [`since`, `until`]."""
        if not terms:
            return []
        # Story keys grow with time: the highest are the most recent stories.
        # One statement for all terms, counted in SQLite: one round trip, no
        # Python loop over the postings.
        args: list[int] = []
        for term in terms:
            args += (term, posting_limit)
        best = [r[0] for r in self._db.execute(_posting_sql(len(terms)), (*args, limit))]
        cache = self._profiles
        out: list[StoryRecord] = []
        missing: list[int] = []
        for key in best:
            rec = cache.get(key)
            if rec is None:
                missing.append(key)
            elif since <= rec.last_time <= until:
                cache.move_to_end(key)
                out.append(rec)
        if missing:
            marks = ",".join("?" * len(missing))
            for r in self._db.execute(
                "SELECT story, story_id, last_t, size, terms, weights, title FROM dedup_story "
                f"WHERE story IN ({marks}) AND last_t>=? AND last_t<=?",
                (*missing, since, until),
            ):
                rec = StoryRecord(r[1], _unpack_profile(r[4], r[5], r[6], r[3]), r[2])
                cache[r[0]] = rec
                out.append(rec)
            while len(cache) > PROFILE_CACHE:
                cache.popitem(last=False)
        return out

    def members(self, story_ids: Sequence[str], per_story: int) -> dict[str, list[Profile]]:
        """The most recent member vectors of each story, as one-member profiles."""
        out: dict[str, list[Profile]] = {}
        for sid in story_ids:
            rows = self._db.execute(
                "SELECT i.vec FROM dedup_item i JOIN dedup_story s ON s.story = i.story "
                "WHERE s.story_id=? AND i.vec IS NOT NULL ORDER BY i.item DESC LIMIT ?",
                (sid, per_story),
            ).fetchall()
            out[sid] = [_unpack_vector(r[0]) for r in rows]
        return out

    def story(self, story_id: str) -> StoryRecord | None:
        """One story by id."""
        row = self._db.execute(
            "SELECT story_id, last_t, size, terms, weights, title FROM dedup_story "
            "WHERE story_id=?",
            (story_id,),
        ).fetchone()
        if row is None:
            return None
        return StoryRecord(row[0], _unpack_profile(row[3], row[4], row[5], row[2]), row[1])

    def add(
        self,
        item: ItemRecord,
        story: StoryRecord,
        previous: Profile | None,
        index_terms: int,
        df_terms: Iterable[int],
    ) -> None:
        """Record an item, its story's new profile and postings, and its terms' counts."""
        db = self._db
        db.execute("SAVEPOINT dedup")
        try:
            terms, weights, title = _pack_profile(story.profile)
            # One upsert for a new story and a grown one (RETURNING: SQLite >= 3.35).
            skey = int(
                db.execute(
                    "INSERT INTO dedup_story (story_id, last_t, size, terms, weights, title, "
                    "keep_t) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(story_id) DO UPDATE SET "
                    "last_t=excluded.last_t, size=excluded.size, terms=excluded.terms, "
                    "weights=excluded.weights, title=excluded.title, "
                    "keep_t=max(keep_t, excluded.keep_t) RETURNING story",
                    (
                        story.story_id,
                        story.last_time,
                        story.profile.size,
                        terms,
                        weights,
                        title,
                        item.time,
                    ),
                ).fetchone()[0]
            )
            self._profiles.pop(skey, None)
            old = _index_terms(previous, index_terms)
            new = _index_terms(story.profile, index_terms)
            db.executemany(
                "DELETE FROM dedup_posting WHERE term=? AND story=?", [(t, skey) for t in old - new]
            )
            db.executemany(
                "INSERT OR IGNORE INTO dedup_posting VALUES (?, ?)", [(t, skey) for t in new - old]
            )
            src = item.source
            sig = array.array("I", item.signature).tobytes() if item.signature else None
            cur = db.execute(
                "INSERT INTO dedup_item (item_id, story, t, outlet, url, title, published, "
                "fetched, sig, vec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    _pack_vector(item.vector) if item.vector else None,
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
            self._flush_df()
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
            stories = db.execute(
                "SELECT story, size, terms, weights, title FROM dedup_story WHERE keep_t < ?",
                (before,),
            ).fetchall()
            # Only what is deleted leaves the caches: the rest is unchanged, and a
            # live stream would otherwise read its whole working set again after
            # every purge. (Dropping an entry is always safe, even if the caller
            # rolls the purge back: it is read again.)
            purged = 0
            for story, size, terms, weights, title in stories:
                self._profiles.pop(story, None)
                profile = _unpack_profile(terms, weights, title, size)
                db.executemany(
                    "DELETE FROM dedup_posting WHERE term=? AND story=?",
                    [(t, story) for t in profile.terms],
                )
                purged += db.execute("DELETE FROM dedup_item WHERE story=?", (story,)).rowcount
                db.execute("DELETE FROM dedup_story WHERE story=?", (story,))
            cache = self._df_cache
            for (term,) in db.execute("SELECT term FROM dedup_df WHERE last < ?", (before,)):
                cache.pop(term, None)
            db.execute("DELETE FROM dedup_df WHERE last < ?", (before,))
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
