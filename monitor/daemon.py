"""The daemon: sources feed a bounded queue; one thread runs the pipeline and the sink.

Fetching runs on the scheduler's threads; the pipeline, the state database and the
producer are used from the main thread only. SIGTERM or SIGINT stops it within a
bounded time: stop scheduling, process what is queued while the budget lasts (the
rest stays in the inbox, where every item waits from the moment it is taken until
its decision is committed), flush the producer (what Kafka has not acknowledged
stays in the outbox), close state.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Protocol

import structlog

from monitor.inbox import Inbox
from monitor.model import Decision, RawItem, Rejected, WorkerStopped
from monitor.pipeline import Pipeline
from monitor.pooled import Batch
from monitor.publish import Publisher
from monitor.publish.outbox import OutboxFull

log = structlog.get_logger("monitor.daemon")

GATHER_S = 0.02
"""How long a batch waits for more items after its first one (latency for fewer batches)."""

AHEAD = 3
"""Batches taken and started in the worker processes beyond the one being decided."""
FORGET_MAX = 2000
"""Decided items whose inbox rows may wait for a moment the inbox is free."""

Submit = Callable[[RawItem | Rejected], None]
Taken = tuple[int | None, RawItem | Rejected]
"""An item the daemon has taken, with its inbox row (None: an error value, not stored)."""


class Decide(Protocol):
    """What the daemon runs its items through: the `Pipeline`, or the fetch role's hand-off."""

    def process(self, item: RawItem | Rejected) -> Decision:
        """Decide one item."""
        ...

    def process_many(self, items: Sequence[RawItem | Rejected]) -> list[Decision]:
        """Decide items in one group commit."""
        ...


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
        pipeline: Decide,
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
        self._held: list[Taken] = []
        """A batch that met a full outbox: processed first once there is room."""
        self._ahead: deque[tuple[list[Taken], Batch | None]] = deque()
        """The next batches (up to `AHEAD`), taken and started in the worker processes
        while this process decides the current one (only with a pooled pipeline)."""
        self._forget: list[int] = []
        """Inbox rows of decided items (committed) not removed yet: the inbox was busy."""
        self.on_tick = on_tick
        self.on_full = on_full
        self._full_logged = 0.0
        self._queue: queue.Queue[Taken] = queue.Queue(maxsize=queue_size)
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
        """Take an item for the pipeline (blocks while the queue is full: backpressure).

        The item is in the inbox (committed) before this returns, and leaves it once
        processed: the connector may then mark it seen, and a crash loses nothing.
        """
        seq = None
        if isinstance(item, RawItem):
            with self._inbox_lock:
                if self._closed:
                    # The inbox is closed: the connector keeps the item unseen instead.
                    raise WorkerStopped("the daemon has stopped")
                seq = self.inbox.add(item)
        while not self._stopping.is_set():
            try:
                self._queue.put((seq, item), timeout=0.2)
                return
            except queue.Full:
                continue
        # Stopping: the pipeline will not take it any more; it waits in the inbox.
        if isinstance(item, Rejected):
            log.info("item.decided", input_id=item.input_id, decision="rejected", reason=item.error)

    def stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        """Ask the daemon to stop (signal handler)."""
        if not self._stopping.is_set():
            log.info("daemon.stopping", signal=signum)
        self._stopping.set()

    def run(
        self,
        sources: Sequence[Source],
        install_signals: bool = True,
        counts: Mapping[str, int] | None = None,
    ) -> int:
        """Run until stopped; return the exit code.

        `counts` (what the sources poll, e.g. feeds and replay folders) go on the
        `daemon.started` line.
        """
        if install_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        self.publisher.start()
        self._replay_inbox()
        for source in sources:
            source.start(self.submit)
        log.info("daemon.started", **(counts or {}))
        try:
            while not self._stopping.is_set():
                if self.publisher.full:
                    self._wait_for_room()
                    continue
                batch, started = self._take()
                if not batch:
                    self._tick()
                    continue
                try:
                    self._process(batch, started)
                except OutboxFull:
                    self._held = batch  # rolled back whole: retried once Kafka drains
                    continue
                self._held = []
                self._done(batch)
                self._tick()
        finally:
            self._shutdown(sources)
        return 0

    def _take(self) -> tuple[list[Taken], Batch | None]:
        """The batch to decide now, with its work started in the workers, if any.

        With worker processes, up to `AHEAD` batches after it are taken (what is
        queued now) and started too, so the workers prepare them while this process
        decides this one; they are decided in the order they were taken.
        """
        if self._held:
            batch, started = self._held, None
        elif self._ahead:
            batch, started = self._ahead.popleft()
        else:
            batch = self._next_batch()
            started = self._start(batch) if batch else None
        while batch and self._pooled and len(self._ahead) < AHEAD:
            after = self._next_batch(wait=False)
            if not after:
                break
            self._ahead.append((after, self._start(after)))
        return batch, started

    @property
    def _pooled(self) -> bool:
        """Whether the items are prepared in worker processes (a `Pipeline` with a pool)."""
        return isinstance(self.pipeline, Pipeline) and self.pipeline.preparer is not None

    def _start(self, batch: Sequence[Taken]) -> Batch | None:
        """Start the workers on a batch (None: no workers)."""
        if isinstance(self.pipeline, Pipeline):
            return self.pipeline.start([item for _, item in batch])
        return None

    def _process(self, batch: Sequence[Taken], started: Batch | None) -> None:
        items = [item for _, item in batch]
        if isinstance(self.pipeline, Pipeline):
            self.pipeline.process_many(items, started)
        else:
            self.pipeline.process_many(items)

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

    def _done(self, batch: Sequence[Taken]) -> None:
        """The batch's decisions are committed: its items leave the inbox.

        Not waiting for the inbox: a fetch thread storing an item may hold it while
        it waits for this process's next transaction, so the rows are removed with a
        later batch's (at the latest once `FORGET_MAX` wait, and at stop). An item
        decided but still in the inbox at a crash is decided again at the next start:
        dedup's identity layer finds it (a duplicate, no second message).
        """
        self._forget.extend(seq for seq, _ in batch if seq is not None)
        self.processed += len(batch)
        if len(self._forget) >= FORGET_MAX:
            self.inbox.remove_many(self._forget)
        elif not self.inbox.try_remove_many(self._forget):
            return
        self._forget = []

    def _next_batch(self, wait: bool = True) -> list[Taken]:
        # Group commit: what is queued right now goes through in one transaction.
        try:
            batch = [self._queue.get(timeout=0.2) if wait else self._queue.get_nowait()]
        except queue.Empty:
            return []
        # A batch waits up to GATHER_S for more items: fetch threads hand items over one
        # by one, and each batch costs a transaction (and a round trip to the workers).
        until = time.monotonic() + (GATHER_S if wait else 0.0)
        while len(batch) < self.batch_size:
            try:
                left = until - time.monotonic()
                batch.append(
                    self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                )
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
            self.inbox.remove_many([seq])

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
        # Every RawItem taken is in the inbox already: what is not processed now stays.
        while self._ahead:  # taken before what is still queued, in order
            ahead, started = self._ahead.popleft()
            if time.monotonic() < process_until and not self.publisher.full:
                try:
                    self._process(ahead, started)
                except OutboxFull:  # rolled back whole: it and the rest stay in the inbox
                    process_until = 0.0
                    continue
                self._done(ahead)
        while True:
            try:
                taken = self._queue.get_nowait()
            except queue.Empty:
                break
            if time.monotonic() < process_until and not self.publisher.full:
                self.pipeline.process(taken[1])
                self._done([taken])
        self.inbox.remove_many(self._forget)
        self._forget = []
        self.publisher.flush(timeout=max(0.5, deadline - time.monotonic() - 0.5))
        pending = self.publisher.pending()
        self.publisher.close(timeout=0.5)
        with self._inbox_lock:
            self._closed = True
            stored = self.inbox.count()
            self.inbox.close()
        log.info(
            "daemon.stopped",
            processed=self.processed,
            stored_in_inbox=stored,
            outbox_pending=pending,
        )
