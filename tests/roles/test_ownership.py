"""The fetch group's rebalance listener: stop everything on revoke, start the share on assign."""

from __future__ import annotations

from kafka import TopicPartition

from monitor.roles.ownership import SourceOwnership
from monitor.roles.shard import source_partition

NAMES = [f"feed-{i:03d}" for i in range(60)]


def test_assign_owns_exactly_the_sources_of_the_assigned_partitions() -> None:
    own = SourceOwnership(NAMES, 4)
    own.on_partitions_assigned([TopicPartition("coord", 1), TopicPartition("coord", 3)])
    assert own.owned() == {n for n in NAMES if source_partition(n, 4) in (1, 3)}
    assert all(own.owns(n) == (source_partition(n, 4) in (1, 3)) for n in NAMES)


def test_revoke_and_loss_stop_every_source_and_report_the_change() -> None:
    changes: list[tuple[frozenset[str], frozenset[str]]] = []
    own = SourceOwnership(
        NAMES, 2, on_change=lambda started, stopped: changes.append((started, stopped))
    )
    own.on_partitions_assigned([TopicPartition("coord", 0)])
    first = own.owned()
    own.on_partitions_revoked([TopicPartition("coord", 0)])
    assert own.owned() == frozenset()
    own.on_partitions_assigned([TopicPartition("coord", 1)])
    own.on_partitions_lost([TopicPartition("coord", 1)])
    assert own.owned() == frozenset()
    second = frozenset(NAMES) - first
    assert changes == [
        (first, frozenset()),
        (frozenset(), first),
        (second, frozenset()),
        (frozenset(), second),
    ]
