"""A fetch instance's share of the sources, kept in step with its consumer group.

`SourceOwnership` is kafka-python's `ConsumerRebalanceListener` for the fetch group.
Its callbacks run on the consumer's I/O loop (the one that heartbeats), so they swap a
set under a lock and call `on_change`, which must return well within the session
timeout (the fetch role moves scheduler jobs there, and waits briefly for running polls).
On revoke the instance owns nothing until the new assignment arrives (eager revoke:
every member stops before any member starts), so no source is polled by two instances.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from kafka import TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from monitor.roles.shard import owned_sources


class SourceOwnership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Which configured sources this instance polls now, from its assigned partitions."""

    def __init__(
        self,
        names: Sequence[str],
        partitions: int,
        on_change: Callable[[frozenset[str], frozenset[str]], None] | None = None,
    ) -> None:
        self._names = tuple(names)
        self._partitions = partitions
        self._on_change = on_change
        self._lock = threading.Lock()
        self._owned: frozenset[str] = frozenset()
        self.assigned = threading.Event()
        """Set at the first assignment (maybe of no partition): the member has joined."""

    def owned(self) -> frozenset[str]:
        """The sources this instance owns now."""
        with self._lock:
            return self._owned

    def owns(self, name: str) -> bool:
        """Whether this instance polls the source called `name` now."""
        with self._lock:
            return name in self._owned

    def _set(self, owned: frozenset[str]) -> None:
        with self._lock:
            before, self._owned = self._owned, owned
        if self._on_change is not None and before != owned:
            self._on_change(owned - before, before - owned)

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Stop polling every source before the rebalance completes."""
        self._set(frozenset())

    def on_partitions_lost(self, lost: Iterable[TopicPartition]) -> None:
        """Evicted from the group: the same as a revoke."""
        self._set(frozenset())

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        """Start polling the sources that hash to the assigned partitions."""
        parts = {tp.partition for tp in assigned}
        self._set(frozenset(owned_sources(self._names, parts, self._partitions)))
        self.assigned.set()
