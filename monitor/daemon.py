"""The daemon: sources feed a bounded queue; one thread runs the pipeline and the sink.

Fetching runs on the scheduler's threads; the pipeline, the state database and the
producer are used from the main thread only. SIGTERM or SIGINT stops it within a
bounded time: stop scheduling, process what is queued while the budget lasts, store
the rest in the inbox, flush the producer (what Kafka has not acknowledged stays
in the outbox), close state.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Protocol

import structlog

from monitor.inbox import Inbox
from monitor.model import RawItem, Rejected, WorkerStopped
from monitor.pipeline import Pipeline
from monitor.publish import Publisher
from monitor.publish.outbox import OutboxFull

log = structlog.get_logger("monitor.daemon")

Submit = Callable[[RawItem | Rejected], None]


class Source(Protocol):
    """Something the daemon starts and stops: a scheduler of connectors."""

    def start(self, submit: Submit) -> None:
        """Start producing items; hand each one to `submit` (from any thread)."""
        ...

    def shutdown(self) -> None:
        """Stop scheduling new work; do not wait for running fetches."""
        ...


class Daemon:
    """Runs sources, pipeline and publisher together until told to stop."""

    def __init__(
        self,
        pipeline: Pipeline,
        publisher: Publisher,
        inbox: Inbox,
        queue_size: int = 1000,
        batch_size: int = 32,
        stop_budget_s: float = 8.0,
        on_tick: Callable[[], None] | None = None,
        on_full: Callable[[], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.publisher = publisher
        self.inbox = inbox
        self.stop_budget_s = stop_budget_s
        self.batch_size = batch_size
        self._held: list[RawItem | Rejected] = []
        """A batch that met a full outbox: processed first once there is room."""
        self.on_tick = on_tick
        self.on_full = on_full
        self._full_logged = 0.0
        self._queue: queue.Queue[RawItem | Rejected] = queue.Queue(maxsize=queue_size)
        self._stopping = threading.Event()
        self._closed = False
        self._inbox_lock = threading.Lock()
        """Orders late submits (fetch threads still running) against closing the inbox."""
        self.processed = 0

    @property
    def queued(self) -> int:
        """Items fetched and waiting for the pipeline."""
        return self._queue.qsize()

    def submit(self, item: RawItem | Rejected) -> None:
        """Queue an item for the pipeline (blocks while the queue is full: backpressure)."""
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        # Stopping: the pipeline will not take it any more; keep it for the next start.
        with self._inbox_lock:
            if self._closed:
                # The inbox is closed too: the connector keeps the item unseen instead.
                raise WorkerStopped("the daemon has stopped")
            if isinstance(item, RawItem):
                self.inbox.put([item])
                return
        log.info("item.decided", input_id=item.input_id, decision="rejected", reason=item.error)

    def stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        """Ask the daemon to stop (signal handler)."""
        if not self._stopping.is_set():
            log.info("daemon.stopping", signal=signum)
        self._stopping.set()

    def run(self, sources: Sequence[Source], install_signals: bool = True) -> int:
        """Run until stopped; return the exit code."""
        if install_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        self.publisher.start()
        self._replay_inbox()
        for source in sources:
            source.start(self.submit)
        log.info("daemon.started", sources=len(sources))
        try:
            while not self._stopping.is_set():
                if self.publisher.full:
                    self._wait_for_room()
                    continue
                batch = self._held or self._next_batch()
                if not batch:
                    self._tick()
                    continue
                try:
                    self.pipeline.process_many(batch)
                except OutboxFull:
                    self._held = batch  # rolled back whole: retried once Kafka drains
                    continue
                self._held = []
                self.processed += len(batch)
                self._tick()
        finally:
            self._shutdown(sources)
        return 0

    def _wait_for_room(self) -> None:
        # Backpressure: fetched items wait in the bounded queue (and fetch threads
        # block on it) until Kafka takes messages again; nothing is dropped.
        now = time.monotonic()
        if now - self._full_logged > 30:
            self._full_logged = now
            log.warning(
                "outbox.full",
                pending=self.publisher.pending(),
                queued=self.queued,
                error=self.publisher.last_error,
                hint="Kafka is not taking messages; fetching pauses until it drains",
            )
            if self.on_full is not None:
                self.on_full()
        self._tick()
        time.sleep(0.5)

    def _next_batch(self) -> list[RawItem | Rejected]:
        # Group commit: what is queued right now goes through in one transaction.
        try:
            batch = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _tick(self) -> None:
        self.publisher.tick()
        if self.on_tick is not None:
            self.on_tick()

    def _replay_inbox(self) -> None:
        pending = self.inbox.pending()
        if pending:
            log.info("inbox.replay", items=len(pending))
        for seq, item in pending:
            self.pipeline.process(item)
            self.inbox.remove(seq)

    def _shutdown(self, sources: Sequence[Source]) -> None:
        deadline = time.monotonic() + self.stop_budget_s
        self._stopping.set()
        for source in sources:
            try:
                source.shutdown()
            except Exception:
                log.exception("source.shutdown_failed")
        # Leave half the budget for the producer flush.
        process_until = time.monotonic() + self.stop_budget_s / 2
        left: list[RawItem] = [i for i in self._held if isinstance(i, RawItem)]
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if time.monotonic() < process_until and not self.publisher.full:
                self.pipeline.process(item)
                self.processed += 1
            elif isinstance(item, RawItem):
                left.append(item)
        with self._inbox_lock:
            stored = self.inbox.put(left)
        self.publisher.flush(timeout=max(0.5, deadline - time.monotonic() - 0.5))
        pending = self.publisher.pending()
        self.publisher.close(timeout=0.5)
        log.info(
            "daemon.stopped",
            processed=self.processed,
            stored_in_inbox=stored,
            outbox_pending=pending,
        )
        with self._inbox_lock:
            self._closed = True
            self.inbox.close()
