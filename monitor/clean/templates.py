"""Per-source templates: lines repeated across many items of one source are boilerplate."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from monitor.clean.phrases import line_key
from monitor.model import Removal

TEMPLATE = "template"


def line_hash(key: str) -> int:
    """The 8-byte signed hash a line's key is counted under."""
    # 8-byte digests instead of the lines themselves: a source's template memory
    # stays small however long its lines are. Signed, so SQLite can store them.
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(slots=True)
class SourceLines:
    """What one source has taught: line hash -> items it occurred in, and the items seen."""

    counts: dict[int, int] = field(default_factory=dict)
    items: set[int] = field(default_factory=set)


class TemplateStore:
    """Counts, per source, in how many distinct items each line occurs.

    A line is template once it has been seen in at least `min_count` *other*
    items of the same source: `strip` is asked before `learn` adds the item, so
    no item is ever stripped on its own evidence, and an item seen twice (same
    text) counts once.
    """

    def __init__(self, min_count: int, max_lines: int, max_total: int | None = None) -> None:
        if min_count < 2:
            raise ValueError("min_count must be at least 2")
        self.min_count = min_count
        self.max_lines = max_lines
        self.max_total = max_total
        """Line counts kept over all sources: past it, the sources that learned least
        recently are forgotten (with thousands of feeds, the per-source cap is no bound)."""
        self._sources: OrderedDict[str, SourceLines] = OrderedDict()
        self._total = 0
        self._changed: set[str] = set()
        """Sources learned or forgotten since the last `changes()` (what a save writes)."""
        self._lock = threading.Lock()

    def strip(self, source: str, lines: Iterable[str]) -> tuple[list[str], list[Removal]]:
        """Split `lines` into kept lines and lines removed as this source's template."""
        lines = list(lines)
        hashes = [line_hash(k) if (k := line_key(line)) else None for line in lines]
        return self.strip_hashed(source, lines, hashes)

    def strip_hashed(
        self, source: str, lines: Sequence[str], hashes: Sequence[int | None]
    ) -> tuple[list[str], list[Removal]]:
        """`strip` with each line's hash given (None: a line with no key)."""
        kept: list[str] = []
        removed: list[Removal] = []
        with self._lock:
            known = self._sources.get(source)
            if known is None or not known.counts:
                return list(lines), []
            counts = known.counts
            for line, h in zip(lines, hashes, strict=True):
                if h is not None and counts.get(h, 0) >= self.min_count:
                    removed.append(Removal(text=line, rule=TEMPLATE))
                else:
                    kept.append(line)
        return kept, removed

    def learn(self, source: str, item_key: str, lines: Iterable[str]) -> None:
        """Count the distinct lines of one item (identified by `item_key`) for `source`."""
        keys = {line_hash(k) for line in lines if (k := line_key(line))}
        self.learn_hashed(source, line_hash(item_key), keys)

    def learn_hashed(self, source: str, item: int, keys: Iterable[int]) -> None:
        """`learn` with the item's hash and its lines' distinct hashes given."""
        keys = set(keys)
        with self._lock:
            known = self._sources.setdefault(source, SourceLines())
            self._sources.move_to_end(source)
            if item in known.items:
                return
            known.items.add(item)
            self._changed.add(source)
            before = len(known.counts)
            for key in keys:
                known.counts[key] = known.counts.get(key, 0) + 1
            if len(known.counts) > self.max_lines:
                self._prune(known)
            self._total += len(known.counts) - before
            self._evict(keep=source)

    def _evict(self, keep: str) -> None:
        while self.max_total is not None and self._total > self.max_total:
            oldest, dropped = next(iter(self._sources.items()))
            if oldest == keep:
                break  # this source alone is within max_lines
            del self._sources[oldest]
            self._changed.add(oldest)
            self._total -= len(dropped.counts)

    def changes(self) -> dict[str, SourceLines | None]:
        """Copies of the sources changed since the last call (None: forgotten), oldest first.

        What a save must write; the order is the learning order, so a store restored
        from it forgets the same sources first.
        """
        with self._lock:
            changed, self._changed = self._changed, set()
            out: dict[str, SourceLines | None] = {
                s: None for s in changed if s not in self._sources
            }
            for source, known in self._sources.items():
                if source in changed:
                    out[source] = SourceLines(dict(known.counts), set(known.items))
            return out

    def unsaved(self, sources: Iterable[str]) -> None:
        """Mark sources as changed again (their save failed)."""
        with self._lock:
            self._changed.update(sources)

    def restore(self, source: str, lines: SourceLines) -> None:
        """Put back what `source` had learned (from a save), as the most recent source."""
        with self._lock:
            old = self._sources.pop(source, None)
            if old is not None:
                self._total -= len(old.counts)
            self._sources[source] = lines
            if len(lines.counts) > self.max_lines:
                self._prune(lines)
            self._total += len(lines.counts)
            self._evict(keep=source)

    def _prune(self, known: SourceLines) -> None:
        # Lines seen once are the bulk (article text) and the least likely
        # template; forgetting them bounds memory and keeps the real template.
        known.counts = {k: c for k, c in known.counts.items() if c > 1}
        if len(known.counts) > self.max_lines:
            ranked = sorted(known.counts.items(), key=lambda kv: kv[1], reverse=True)
            known.counts = dict(ranked[: self.max_lines // 2])
        if len(known.items) > self.max_lines:
            known.items.clear()

    def total_lines(self) -> int:
        """Line counts held over all sources (bounded by `max_total`)."""
        with self._lock:
            return self._total

    def template_lines(self, source: str) -> int:
        """Return how many lines currently count as `source`'s template."""
        with self._lock:
            known = self._sources.get(source)
            if known is None:
                return 0
            return sum(1 for c in known.counts.values() if c >= self.min_count)
