"""A one-line progress display for long work, shown only when stderr is a terminal.

`format_progress` is pure (done, total, elapsed -> text); `Progress` redraws that line
with a carriage return at most a few times a second and erases it at the end. On a pipe,
a file or a log collector it writes nothing at all.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

_MIB = 1024 * 1024


def _amount(n: float, unit: str) -> str:
    if unit == "bytes":
        return f"{n / _MIB:,.1f}"
    return f"{int(n):,}"


def _unit(unit: str) -> str:
    return "MiB" if unit == "bytes" else unit


def format_duration(seconds: float) -> str:
    """`42s`, `3m05s`, `1h02m`."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def format_progress(done: float, total: float | None, elapsed: float, unit: str = "items") -> str:
    """The progress line: amount done (of total), rate, and time left when it can be known."""
    rate = done / elapsed if elapsed > 0 else 0.0
    u = _unit(unit)
    if total:
        pct = min(100, int(100 * done / total))
        head = f"{_amount(done, unit)}/{_amount(total, unit)} {u} ({pct}%)"
    else:
        head = f"{_amount(done, unit)} {u}"
    parts = [head, f"{_amount(rate, unit)} {u}/s"]
    if total and rate > 0 and done < total:
        parts.append(f"{format_duration((total - done) / rate)} left")
    return "  ".join(parts)


class Progress:
    """Draws `format_progress` on `stream` when it is a terminal; does nothing otherwise."""

    def __init__(
        self,
        label: str,
        total: float | None = None,
        unit: str = "items",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = 0.2,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_tty(self.stream)
        self.label, self.total, self.unit = label, total, unit
        self.done = 0.0
        self._clock = clock
        self._every = every_s
        self._start = clock()
        self._last = float("-inf")
        self._width = 0

    def advance(self, n: float = 1) -> None:
        """Count `n` more done; redraw if the last draw is old enough."""
        self.done += n
        if self.enabled and self._clock() - self._last >= self._every:
            self.draw()

    def draw(self) -> None:
        """Redraw the line now."""
        if not self.enabled:
            return
        now = self._clock()
        self._last = now
        line = f"{self.label}: " + format_progress(
            self.done, self.total, now - self._start, self.unit
        )
        # The cursor goes back to the line's start: a log line written meanwhile
        # overwrites the progress instead of being glued to its end.
        self.stream.write("\r" + line.ljust(self._width) + "\r")
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """Erase the line (the command prints its own summary after it)."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False
