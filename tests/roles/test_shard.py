"""Sharding sources over the fetch group's partitions: stable, complete, spread."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from monitor.roles.shard import owned_sources, source_partition

NAMES = [f"feed-{i:03d}" for i in range(300)]


def test_same_partition_in_processes_with_different_hash_seeds() -> None:
    code = (
        "from monitor.roles.shard import source_partition;"
        f"print([source_partition(n, 12) for n in {NAMES[:50]!r}])"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert outs == {str([source_partition(n, 12) for n in NAMES[:50]]) + "\n"}


def test_every_source_owned_by_exactly_one_member() -> None:
    members = [{0, 3, 6, 9}, {1, 4, 7, 10}, {2, 5, 8, 11}]
    owned = [owned_sources(NAMES, m, 12) for m in members]
    assert sorted(n for o in owned for n in o) == sorted(NAMES)
    assert all(len(o) > 50 for o in owned)


def test_partitions_must_be_positive() -> None:
    with pytest.raises(ValueError, match="partitions must be at least 1, got 0"):
        source_partition("a", 0)
