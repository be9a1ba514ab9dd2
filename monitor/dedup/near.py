"""Layer 2: near-verbatim copies by MinHash over word shingles, banded for LSH.

rensa computes the signatures. The LSH bands are stored as rows of the SQLite
index, so they survive restarts and expire with the window. The band layout is the
one that minimises the false-positive plus false-negative probability mass at the
configured threshold (the classic LSH choice, as datasketch's `MinHashLSH` makes it).
"""

from __future__ import annotations

import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rensa import RMinHash

from monitor.dedup.features import key_id, shingles, token_shingles

SEED = 1729
"""Fixed so signatures stored before a restart compare with new ones."""


@lru_cache(maxsize=4)
def _gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(nodes)
    return x, w


def _integral(f: Callable[[np.ndarray], np.ndarray], a: float, b: float, nodes: int) -> float:
    """Gauss-Legendre quadrature: exact for the polynomials of degree < 2 * `nodes` here."""
    x, w = _gauss_legendre(nodes)
    half = (b - a) / 2
    return float(half * np.dot(w, f(half * x + (a + b) / 2)))


@lru_cache(maxsize=16)
def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """Return (bands, rows) minimising false positives + negatives at `threshold`.

    Two texts of Jaccard similarity s share a band with probability
    1 - (1 - s^rows)^bands; the false positives are that probability's mass below the
    threshold, the false negatives the mass of its complement above it (equal weights).
    """
    nodes = num_perm // 2 + 1  # the integrands are polynomials of degree <= num_perm
    best, layout = float("inf"), (1, num_perm)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):

            def miss(s: np.ndarray, b: int = bands, r: int = rows) -> np.ndarray:
                return np.asarray((1.0 - s**r) ** b)

            def hit(s: np.ndarray, b: int = bands, r: int = rows) -> np.ndarray:
                return np.asarray(1.0 - (1.0 - s**r) ** b)

            false_pos = _integral(hit, 0.0, threshold, nodes)
            false_neg = _integral(miss, threshold, 1.0, nodes)
            error = 0.5 * false_pos + 0.5 * false_neg
            if error < best:
                best, layout = error, (bands, rows)
    return layout


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
