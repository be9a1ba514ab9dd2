"""Sinks publish `OutMessage`s and never parse: the Kafka sink and the dry-run sinks.

A sink reports each delivered message id through `acked()`; the outbox deletes a
message only once its sink has acknowledged it.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import IO, Protocol

from monitor.publish.message import OutMessage


class DeliveryError(Exception):
    """A message could not be delivered (it stays in the outbox)."""


class Sink(Protocol):
    """Where messages go. `send` may buffer; `flush` waits for delivery."""

    def send(self, message: OutMessage) -> None:
        """Queue one message for delivery."""
        ...

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued message is delivered or has failed."""
        ...

    def acked(self) -> list[str]:
        """Return (and forget) the ids of messages delivered since the last call."""
        ...

    def failed(self) -> list[tuple[str, str]]:
        """Return (and forget) `(message_id, error)` for messages that failed."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...


class StreamSink:
    """Dry-run sink: writes the same values as Kafka would get, one JSON per line."""

    def __init__(self, stream: IO[bytes], owned: bool = False) -> None:
        self._stream = stream
        self._owned = owned
        self._acked: list[str] = []
        self._failed: list[tuple[str, str]] = []

    def send(self, message: OutMessage) -> None:
        """Write the message value as one line (delivery is immediate; a failed write is
        reported by `failed()`, so the run can say how many messages were not written)."""
        try:
            self._stream.write(message.value + b"\n")
        except OSError as exc:
            self._failed.append((message.message_id, f"{type(exc).__name__}: {exc}"))
            return
        self._acked.append(message.message_id)

    def flush(self, timeout: float | None = None) -> None:
        """Flush the underlying stream; a failure is reported by `failed()`."""
        try:
            self._stream.flush()
        except OSError as exc:
            self._failed.append(("(buffered lines)", f"{type(exc).__name__}: {exc}"))

    def acked(self) -> list[str]:
        """Return the ids written since the last call."""
        out, self._acked = self._acked, []
        return out

    def failed(self) -> list[tuple[str, str]]:
        """Return (and forget) the messages whose write failed since the last call."""
        out, self._failed = self._failed, []
        return out

    def close(self) -> None:
        """Flush, and close the stream if this sink opened it (a second call does nothing)."""
        if self._stream.closed:
            return
        self.flush()
        if self._owned:
            with contextlib.suppress(OSError):  # a failed flush is already reported
                self._stream.close()


def parse_sink(spec: str) -> tuple[str, str | None]:
    """Parse `kafka`, `stdout` or `jsonl:PATH` into (kind, path)."""
    if spec in ("kafka", "stdout"):
        return spec, None
    if spec.startswith("jsonl:") and len(spec) > len("jsonl:"):
        return "jsonl", spec[len("jsonl:") :]
    raise ValueError(f"unknown sink {spec!r}: use kafka, stdout or jsonl:PATH")


def open_stream_sink(kind: str, path: str | None) -> StreamSink:
    """Open a dry-run sink (`stdout` or `jsonl` to a file, appended); OSError if it cannot."""
    if kind == "stdout":
        return StreamSink(sys.stdout.buffer)
    assert path is not None
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return StreamSink(target.open("ab"), owned=True)
