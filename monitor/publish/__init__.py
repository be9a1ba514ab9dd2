"""Publishing: story events go through the outbox to a sink (Kafka or a dry run).

Delivery guarantee: at least once, in order per story key. A message is written to
the outbox before it is sent and leaves it only when the sink acknowledges it
(Kafka: acks=all, idempotent producer). While the sink is unreachable, messages
wait in the outbox and are sent again, with the same `message_id`, once it is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import structlog

from monitor.publish.message import OutMessage
from monitor.publish.outbox import Outbox
from monitor.publish.sinks import Sink

log = structlog.get_logger("monitor.publish")

SinkFactory = Callable[[], Sink]


class Publisher:
    """Writes messages to the outbox, sends them, and clears them once acknowledged."""

    def __init__(
        self,
        connect: SinkFactory,
        outbox: Outbox | None = None,
        retry_s: float = 5.0,
        on_ack: Callable[[str, float], None] | None = None,
        on_fail: Callable[[str], None] | None = None,
        stall_s: float | None = None,
    ) -> None:
        self._connect = connect
        self.outbox = outbox
        self.retry_s = retry_s
        self.stall_s = stall_s
        """A message neither acknowledged nor failed after this long means a stuck sink."""
        self.sink: Sink | None = None
        self.failures = 0
        self.last_error: str | None = None
        self._in_flight: dict[str, tuple[float, str]] = {}
        """Message id -> (when it was handed to the sink, its topic), for latency and counts."""
        self._next_try = 0.0
        self._on_ack = on_ack
        self._on_fail = on_fail

    @property
    def healthy(self) -> bool:
        """Connected, and the last delivery attempt did not fail."""
        return self.sink is not None and self.last_error is None

    def start(self) -> bool:
        """Open the sink and send again whatever the outbox still holds."""
        return self._ensure_sink(force=True)

    def _ensure_sink(self, force: bool = False) -> bool:
        if self.sink is not None:
            return True
        if not force and time.monotonic() < self._next_try:
            return False
        self._next_try = time.monotonic() + self.retry_s
        try:
            self.sink = self._connect()
        except Exception as exc:  # unreachable broker: keep queueing in the outbox
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("sink.unavailable", error=self.last_error, retry_in_s=self.retry_s)
            return False
        log.info("sink.connected")
        self.last_error = None
        self._in_flight.clear()
        self.resend_pending()
        return True

    def publish(self, messages: Sequence[OutMessage]) -> None:
        """Persist then send messages; without a sink they wait in the outbox."""
        self.stage(messages)
        self.send(messages)

    def stage(self, messages: Sequence[OutMessage]) -> None:
        """Write messages to the outbox (inside the caller's transaction, if any)."""
        if messages and self.outbox is not None:
            self.outbox.put(messages)

    def send(self, messages: Sequence[OutMessage]) -> None:
        """Send staged messages; without a sink they wait in the outbox."""
        if not messages:
            return
        if self._ensure_sink():
            self._send(messages)
        self.settle()

    def _send(self, messages: Sequence[OutMessage]) -> None:
        assert self.sink is not None
        for message in messages:
            if message.message_id in self._in_flight:
                continue
            try:
                self.sink.send(message)
            except Exception as exc:  # e.g. metadata timeout while the broker is down
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("publish.send_failed", message_id=message.message_id, error=exc)
                self._next_try = time.monotonic() + self.retry_s
                return
            self._in_flight[message.message_id] = (time.monotonic(), message.topic)

    def resend_pending(self) -> int:
        """Send again what the outbox holds and is not already on its way."""
        if self.outbox is None or self.sink is None:
            return 0
        pending = [
            m for m in self.outbox.pending(limit=100_000) if m.message_id not in self._in_flight
        ]
        if pending:
            log.info("outbox.resend", messages=len(pending))
            self._send(pending)
        return len(pending)

    def tick(self) -> None:
        """Settle results; reconnect or resend failed messages when their retry is due."""
        self.settle()
        self._check_stall()
        if self.outbox is None or self.outbox.depth() == len(self._in_flight):
            return
        if self.sink is None:
            self._ensure_sink()
        elif time.monotonic() >= self._next_try:
            self._next_try = time.monotonic() + self.retry_s
            self.resend_pending()

    def _check_stall(self) -> None:
        # A producer must answer every message within its delivery timeout; one that
        # has not (seen after a broker restart) is replaced, and the outbox resent.
        if self.sink is None or self.stall_s is None or not self._in_flight:
            return
        waited = time.monotonic() - min(sent for sent, _ in self._in_flight.values())
        if waited < self.stall_s:
            return
        log.warning("sink.stalled", in_flight=len(self._in_flight), waited_s=round(waited, 1))
        self.last_error = f"sink stalled: no answer for {waited:.0f}s"
        old, self.sink = self.sink, None
        try:
            old.close()
        except Exception as exc:
            log.warning("sink.close_failed", error=str(exc))
        self._in_flight.clear()
        self._ensure_sink(force=True)

    def settle(self) -> None:
        """Apply delivery results: acknowledged messages leave the outbox."""
        if self.sink is None:
            return
        acked = self.sink.acked()
        failed = self.sink.failed()
        now = time.monotonic()
        for mid in acked:
            flight = self._in_flight.pop(mid, None)
            if flight is not None and self._on_ack is not None:
                self._on_ack(flight[1], now - flight[0])
        for mid, _ in failed:
            flight = self._in_flight.pop(mid, None)
            if flight is not None and self._on_fail is not None:
                self._on_fail(flight[1])
        if self.outbox is not None:
            self.outbox.ack(acked)
            self.outbox.record_failure(failed)
        if acked and not failed:
            self.last_error = None
        if failed:
            self.failures += len(failed)
            self.last_error = failed[-1][1]
            self._next_try = time.monotonic() + self.retry_s
            log.warning("publish.failed", messages=len(failed), error=self.last_error)

    def flush(self, timeout: float | None = None) -> None:
        """Wait for delivery of everything sent, then settle."""
        if self.sink is not None:
            try:
                self.sink.flush(timeout)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("publish.flush_failed", error=self.last_error)
        self.settle()

    @property
    def full(self) -> bool:
        """Whether the outbox is near its bound: take no new items until Kafka drains it."""
        # Headroom for a batch of items' messages, so a caller that checks `full`
        # first rarely meets OutboxFull mid-batch (and holds the batch when it does).
        if self.outbox is None:
            return False
        headroom = min(256, self.outbox.max_pending // 4)
        return self.outbox.depth() >= self.outbox.max_pending - headroom

    def pending(self) -> int:
        """Messages not yet acknowledged (0 for sinks without an outbox)."""
        return self.outbox.depth() if self.outbox is not None else 0

    def close(self, timeout: float | None = 10.0) -> None:
        """Flush, then close the sink and the outbox; unacknowledged messages stay stored."""
        try:
            self.flush(timeout)
            if self.sink is not None:
                self.sink.close()
                self.settle()
        finally:
            if self.outbox is not None:
                self.outbox.close()
