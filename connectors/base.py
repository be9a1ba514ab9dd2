"""The one small contract every connector implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from monitor.model import RawItem, Rejected


class Connector(Protocol):
    """A source of items: yields what it read, and errors as values.

    `items()` never raises for bad input: a file, line or entry it cannot read
    becomes a `Rejected` with a specific reason, and reading goes on.
    """

    name: str

    def items(self) -> Iterator[RawItem | Rejected]:
        """Yield every item this connector can currently read."""
        ...
