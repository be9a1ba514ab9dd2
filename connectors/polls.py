"""What one poll of one feed came to: a typed outcome, never an error string to decode.

The poller returns a `PollOutcome`; the shell records metrics and logs from it in one
place (`monitor.feedhealth`), and hands on only its `items` (the feed's new entries)
to the pipeline. A feed's health is never an item decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.feedstate import FeedState
    from monitor.config import SourceSettings
    from monitor.model import RawItem, Rejected


class PollStatus(StrEnum):
    """How a poll ended."""

    CHANGED = "changed"
    """The feed was read and listed entries not handed on before."""
    UNCHANGED = "unchanged"
    """The feed answered 304, the same body, or only entries already handed on."""
    FAILED = "failed"
    """The fetch or the parse failed (`error` says why); backoff, then the slow lane."""
    DEFERRED = "deferred"
    """Held back because the host asked to wait: nothing was fetched, nothing failed."""
    RETIRED = "retired"
    """The feed is gone (410): no more requests until its configured URL changes."""


@dataclass(frozen=True, slots=True)
class PollError:
    """Why a poll failed, was deferred or the feed is retired."""

    kind: str
    """`http.FetchError` kinds (`timeout`, `too_large`, `blocked`, `redirect`, ...), or
    `status` (an HTTP error status), `parse` (not a readable feed), `gone` (410, retired),
    `internal` (a bug: the poll crashed)."""
    message: str
    """The specific reason, as logged and shown in `news-monitor feeds`."""

    def __str__(self) -> str:
        return self.message


@dataclass
class PollOutcome:
    """One finished poll: its status, the items to hand on, and the state to save after."""

    source: SourceSettings
    status: PollStatus
    items: list[RawItem | Rejected] = field(default_factory=list)
    """New entries, oldest first (an entry that cannot be read is a `Rejected` item)."""
    state: FeedState | None = None
    """The feed's new state, saved once the items are handed on (None: nothing to save)."""
    error: PollError | None = None
    keys_in_feed: list[str] = field(default_factory=list)
    overflow: bool = False
    """Every entry the feed lists was new although it had been read before: entries
    published between the two polls may have scrolled off it unseen."""
    seconds: float = 0.0
    """How long the fetch took (network and parse)."""
    entered_slow_lane: bool = False
    """This failure moved the feed to the slow lane."""

    @property
    def name(self) -> str:
        """The source's name."""
        return self.source.name

    @property
    def failed(self) -> bool:
        """Whether the source failed (or is retired): `run --once` exits 1 for it."""
        return self.status in (PollStatus.FAILED, PollStatus.RETIRED)
