"""Layer 2: near-verbatim copies by MinHash over word shingles, banded for LSH.

rensa computes the signatures (measured against datasketch in docs/dedup.md:
same estimate quality, several times faster). The LSH bands are ours only in the
sense that they are stored as rows of the SQLite index instead of an in-memory
dict, so they survive restarts and expire with the window; the band layout is
datasketch's optimum for the configured threshold.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rensa import RMinHash

from monitor.dedup.features import key_id, shingles, token_shingles

SEED = 1729
"""Fixed so signatures stored before a restart compare with new ones."""


@lru_cache(maxsize=16)
def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """Return (bands, rows) minimising false positives + negatives at `threshold`."""
    from datasketch.lsh import _optimal_param

    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(bands), int(rows)


@dataclass(frozen=True, slots=True)
class Signature:
    """A MinHash signature and its LSH band keys."""

    values: tuple[int, ...]
    bands: tuple[int, ...]

    def to_blob(self) -> bytes:
        """Pack the signature for storage (4 bytes a permutation)."""
        return array.array("I", self.values).tobytes()


def signature(
    text: str, shingle: int, num_perm: int, threshold: float, tokens: Sequence[str] | None = None
) -> Signature | None:
    """Compute the signature of a text (or its `tokens`), or None when too short to shingle."""
    grams = shingles(text, shingle) if tokens is None else token_shingles(tokens, shingle)
    if len(grams) < 2:
        return None
    mh = RMinHash(num_perm=num_perm, seed=SEED)
    mh.update(list(grams))  # a minimum per permutation: the order does not matter
    values = tuple(mh.digest())
    return Signature(values=values, bands=band_keys(values, threshold))


def band_keys(values: tuple[int, ...], threshold: float) -> tuple[int, ...]:
    """Hash each band of a signature (with its band number) to a 64-bit key."""
    bands, rows = band_layout(threshold, len(values))
    return tuple(
        key_id(f"b{b}:" + ",".join(map(str, values[b * rows : (b + 1) * rows])))
        for b in range(bands)
    )


def from_blob(blob: bytes) -> tuple[int, ...]:
    """Unpack a stored signature."""
    return tuple(array.array("I", blob))


def jaccard(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimate the Jaccard similarity of two texts from their signatures."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
