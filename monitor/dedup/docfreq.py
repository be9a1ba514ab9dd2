"""Document frequencies learned from the stream, in `dedup_df`, counted in batches.

Per item an article adds one to each of its distinct terms; those increments are
kept in memory and written together every `DF_FLUSH_EVERY` items: per item they would
touch ~250 rows of a large B-tree, and the more items a batch holds, the more of
their terms it writes once (1,024 items: half the write time of 256; 4,096: ~0.1 ms an
item less than 1,024 over 8,192 bench items). A crash loses at most that many items'
statistics, never an item or a decision. The counts are halved
every `DF_HALVE_AT` documents, so they follow the recent stream and stay bounded.

While the table holds at most `DF_CACHE` terms, all of it is kept in memory (read
at start, updated as rows are written): a term not there is stored nowhere, so the
look-ups never read the database. Past that bound the memory holds the terms seen
lately and the others are read.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import compress, filterfalse, repeat
from operator import add

DF_HALVE_AT = 200_000
"""Halve all document frequencies when this many documents were counted."""
DF_CACHE = 400_000
"""Document frequencies kept in memory (~90 B each, ~36 MiB when full)."""
DF_FLUSH_EVERY = 4096
"""Items whose document-frequency increments are written in one batch."""


class DocFreqs:
    """The stream's document counts on one connection (this process is the only writer)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.n_docs = self.meta("n_docs")
        self._pending: Counter[int] = Counter()
        self._pending_last = 0.0
        self._pending_items = 0
        # Stored document frequencies, kept exact: this process is the only writer and
        # updates them when it writes the rows. All of the table, or (past `DF_CACHE`)
        # the terms looked up lately, with 0 for those not stored.
        self._cache: dict[int, int] = {}
        self._complete = False
        """Whether `_cache` holds every stored term (then a term not in it has none)."""
        self._load()

    def _load(self) -> None:
        """Read the whole table into memory when it fits under `DF_CACHE`."""
        self._cache.clear()
        (rows,) = self._db.execute("SELECT count(*) FROM dedup_df").fetchone()
        self._complete = rows <= DF_CACHE
        if self._complete:
            self._cache.update(self._db.execute("SELECT term, df FROM dedup_df"))

    def meta(self, key: str) -> float:
        """One of the dedup counters as stored (`n_docs`, `clock`; 0 when absent)."""
        row = self._db.execute("SELECT value FROM dedup_meta WHERE key=?", (key,)).fetchone()
        return float(row[0]) if row else 0.0

    def set_meta(self, key: str, value: float) -> None:
        """Store one of the dedup counters (`n_docs`, `clock`)."""
        self._db.execute(
            "INSERT INTO dedup_meta VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def counts(self, terms: Sequence[int]) -> tuple[int, list[int]]:
        """Number of documents counted, and the document frequency of each term, in order."""
        if not self._complete:
            n_docs, found = self.get(terms)
            return n_docs, list(map(found.get, terms, repeat(0)))
        # Everything stored is in memory: two look-ups a term, in C.
        cache, pending = self._cache, self._pending
        return int(self.n_docs), list(
            map(add, map(cache.get, terms, repeat(0)), map(pending.get, terms, repeat(0)))
        )

    def get(self, terms: Sequence[int]) -> tuple[int, dict[int, int]]:
        """Number of documents counted, and the document frequency of each term."""
        cache = self._cache
        if self._complete:
            # Everything stored is in memory: no read, no zeros kept for absent terms;
            # a repeated term is simply set twice (no set() of the terms first).
            totals = list(
                map(add, map(cache.get, terms, repeat(0)), map(self._pending.get, terms, repeat(0)))
            )
            return int(self.n_docs), dict(compress(zip(terms, totals, strict=True), totals))
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
        # Stored plus not yet written, term by term in C; only the non-zero ones are kept.
        totals = list(
            map(add, map(cache.__getitem__, unique), map(self._pending.get, unique, repeat(0)))
        )
        out = dict(compress(zip(unique, totals, strict=True), totals))
        if len(cache) > DF_CACHE:
            cache.clear()  # crude but bounded; refilled by the next look-ups
        return int(self.n_docs), out

    def count(self, terms: Iterable[int], when: float) -> None:
        """Count one document's terms (inside the caller's savepoint)."""
        self._pending.update(set(terms))  # counted in C
        self._pending_last = max(self._pending_last, when)
        self._pending_items += 1
        self.n_docs += 1
        if self._pending_items >= DF_FLUSH_EVERY or self.n_docs >= DF_HALVE_AT:
            self.flush()
        if self.n_docs >= DF_HALVE_AT:
            self._db.execute("UPDATE dedup_df SET df = df / 2")
            self._db.execute("DELETE FROM dedup_df WHERE df = 0")
            self.n_docs /= 2
            self.set_meta("n_docs", self.n_docs)
            self._load()

    def flush(self) -> None:
        """Write the batched document-frequency increments and the document count."""
        pending = self._pending
        if pending:
            # In key order: neighbouring rows of the B-tree are written together.
            keys = sorted(pending)
            self._db.executemany(
                "INSERT INTO dedup_df VALUES (?, ?, ?) ON CONFLICT(term) DO UPDATE SET "
                "df=df+excluded.df, last=max(last, excluded.last)",
                zip(keys, map(pending.__getitem__, keys), repeat(self._pending_last), strict=False),
            )
            cache = self._cache
            if self._complete:
                totals = map(add, map(cache.get, keys, repeat(0)), map(pending.__getitem__, keys))
                cache.update(zip(keys, totals, strict=False))
                if len(cache) > DF_CACHE:
                    # Too many to keep all: from now on a term not in memory is read.
                    self._complete = False
                    cache.clear()
            else:
                for t in filter(cache.__contains__, keys):
                    cache[t] += pending[t]
            pending.clear()
        self._pending_items = 0
        self.set_meta("n_docs", self.n_docs)

    @property
    def dirty(self) -> bool:
        """Whether counts wait to be written."""
        return bool(self._pending or self._pending_items)

    def reload(self) -> None:
        """Forget what is in memory and read the stored counts (after a rollback)."""
        self.n_docs = self.meta("n_docs")
        self._pending.clear()
        self._pending_items = 0
        self._load()
