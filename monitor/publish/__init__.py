"""Publishing: story events through the outbox to a sink (Kafka or a dry run)."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from monitor.publish.message import OutMessage
from monitor.publish.outbox import Outbox
from monitor.publish.sinks import Sink

log = structlog.get_logger("monitor.publish")


class Publisher:
    """Writes messages to the outbox, sends them, and clears them once acknowledged."""

    def __init__(self, sink: Sink, outbox: Outbox | None = None) -> None:
        self.sink = sink
        self.outbox = outbox
        self.failures = 0

    def publish(self, messages: Sequence[OutMessage]) -> None:
        """Persist then send messages; acknowledgements are settled as they arrive."""
        if self.outbox is not None:
            self.outbox.put(messages)
        for message in messages:
            self.sink.send(message)
        self.settle()

    def resend_pending(self) -> int:
        """Send again everything the outbox still holds (after a crash or an outage)."""
        if self.outbox is None:
            return 0
        pending = self.outbox.pending(limit=1_000_000)
        for message in pending:
            self.sink.send(message)
        if pending:
            log.info("outbox.resend", messages=len(pending))
        return len(pending)

    def settle(self) -> None:
        """Apply delivery results: acknowledged messages leave the outbox."""
        acked = self.sink.acked()
        failed = self.sink.failed()
        if self.outbox is not None:
            self.outbox.ack(acked)
            self.outbox.record_failure(failed)
        for message_id, error in failed:
            self.failures += 1
            log.warning("publish.failed", message_id=message_id, error=error)

    def flush(self, timeout: float | None = None) -> None:
        """Wait for delivery of everything sent, then settle."""
        self.sink.flush(timeout)
        self.settle()

    def close(self) -> None:
        """Flush and close the sink and the outbox."""
        try:
            self.sink.close()
            self.settle()
        finally:
            if self.outbox is not None:
                self.outbox.close()
