"""Which fetch instance polls which source: a stable hash of the source's name.

Fetch instances share the configured sources through a Kafka consumer group over a
coordination topic of N partitions; an instance polls the sources whose name hashes
to one of its assigned partitions. The hash is blake2b, never Python's salted
`hash()`, so every instance (and every restart) agrees. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable


def source_partition(name: str, partitions: int) -> int:
    """The partition (0 .. partitions-1) that owns the source called `name`."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def owned_sources(names: Iterable[str], assigned: Collection[int], partitions: int) -> list[str]:
    """The sources, in their given order, whose partition is one of `assigned`."""
    return [n for n in names if source_partition(n, partitions) in assigned]
