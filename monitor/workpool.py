"""A pool of worker processes for per-item CPU work, results back in submission order.

`WorkPool.map(fn, items)` runs a picklable module-level `fn` on each item in a
`ProcessPoolExecutor` and yields one `Done` or `Failed` per item, in the items' order,
so the caller (dedup, outbox) sees the same sequence as with one process. Items go to
the workers in chunks (one task per chunk, not per item); `start()` submits a batch and
returns at once, so the workers prepare the next batch while the caller is busy with
this one. An exception in `fn` is a `Failed` value. A worker that dies (kill -9, OOM)
breaks the executor: it is replaced and each item that had not finished is run again
once, alone, so an item whose retry also kills its worker is a `Failed` naming the
crash and the others complete. Nothing is dropped. `call(fn, item)` runs one item (from
any thread) and raises what `fn` raised. With `processes=1` the work runs in this process.

Workers are spawned (a fresh interpreter) without re-importing the parent's `__main__`
(the `news-monitor` console script would pull in the whole CLI): a worker imports only
the module of the function it runs and of its initializer. A worker exits when its
parent dies (kill -9 of the daemon leaves no orphans).
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import popen_spawn_posix, reduction, spawn, util
from multiprocessing.context import SpawnContext, SpawnProcess, set_spawning_popen
from typing import Any, Generic, TypeVar

from monitor.model import WorkerStopped

T = TypeVar("T")
R = TypeVar("R")

PARENT_CHECK_S = 0.5
"""How often a worker checks that its parent is alive."""


@dataclass(frozen=True, slots=True)
class Done(Generic[R]):
    """The item's result."""

    value: R


@dataclass(frozen=True, slots=True)
class Failed:
    """The item's work raised, or its worker process died twice: the reason, one line."""

    error: str


Outcome = Done[R] | Failed
DIED_TWICE = "worker process died twice while processing this item"


class Running(Generic[T, R]):
    """A batch submitted to the pool: `outcomes()` yields one per item, in order."""

    def __init__(
        self,
        pool: WorkPool,
        fn: Callable[[T], R],
        items: Sequence[T],
        chunks: list[tuple[int, Future[list[Outcome[R]]]]] | None,
    ) -> None:
        self._pool, self._fn, self.items, self._chunks = pool, fn, items, chunks

    def outcomes(self) -> Iterator[Outcome[R]]:
        """Each item's outcome in order, as soon as its chunk is done."""
        if self._chunks is None:
            yield from (_run_here(self._fn, item) for item in self.items)
            return
        for n, (_, fut) in enumerate(self._chunks):
            try:
                yield from fut.result()
            except BrokenProcessPool:
                # A worker died: replace the pool and retry each unfinished item alone,
                # so the item that kills its worker again is the one that fails.
                self._pool._replace(_executor_of(fut))
                for later_start, later in self._chunks[n:]:
                    end = self._end(later_start)
                    if later.done() and later.exception() is None:
                        yield from later.result()  # finished before the crash
                    else:
                        yield from self._pool._isolated(self._fn, self.items[later_start:end])
                return

    def _end(self, start: int) -> int:
        assert self._chunks is not None
        starts = [s for s, _ in self._chunks]
        i = starts.index(start)
        return starts[i + 1] if i + 1 < len(starts) else len(self.items)


class WorkPool:
    """`processes` worker processes (1: in this process); close() stops them.

    `initializer(*initargs)` runs once in each worker when it starts (load the config,
    build the stages): a picklable module-level function.
    """

    def __init__(
        self,
        processes: int,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        if processes < 1:
            raise ValueError(f"worker.processes must be at least 1, got {processes}")
        self.processes = processes
        self._init = (initializer, initargs)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.restarts = 0
        """Times a dead worker broke the pool and it was replaced."""

    @property
    def pooled(self) -> bool:
        """Whether the work runs in other processes."""
        return self.processes > 1

    def start(self) -> list[int]:
        """Start every worker now (and run its initializer); return their pids.

        Otherwise workers start on the first work. Starting here, from the caller's
        thread, surfaces an initializer's error at once.
        """
        if not self.pooled:
            return []
        pool = self._pool()
        for fut in [pool.submit(_ready, 0.05) for _ in range(self.processes)]:
            fut.result()
        return self.pids()

    def pids(self) -> list[int]:
        """The worker processes' ids (empty before they start, or with processes=1)."""
        with self._lock:
            procs = getattr(self._executor, "_processes", None) or {}
            return sorted(procs)

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise WorkerStopped("the worker pool was closed")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=LeanSpawnContext(),
                    initializer=_worker_start,
                    initargs=(os.getpid(), *self._init),
                )
            return self._executor

    def _replace(self, broken: ProcessPoolExecutor | None) -> None:
        """Replace the executor a dead worker broke (unless another thread did already)."""
        with self._lock:
            if broken is None or self._executor is not broken:
                return
            self._executor = None
            self.restarts += 1
        broken.shutdown(wait=True, cancel_futures=True)

    def _submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Submit to a working executor: one that a dead worker broke is replaced first."""
        for _attempt in range(3):
            pool = self._pool()
            try:
                fut = pool.submit(fn, *args)
            except BrokenProcessPool:
                self._replace(pool)
                continue
            except RuntimeError as exc:  # shut down under us: closing, or replaced
                if self._closed:
                    raise WorkerStopped("the worker pool was closed") from exc
                continue
            fut.__dict__["_executor"] = pool
            return fut
        raise RuntimeError("the worker pool could not be restarted")

    def start_map(self, fn: Callable[[T], R], items: Iterable[T]) -> Running[T, R]:
        """Submit `fn` over the items in chunks; return at once."""
        batch = list(items)
        if not self.pooled:
            return Running(self, fn, batch, None)
        size = chunk_size(len(batch), self.processes)
        chunks = [
            (i, self._submit(_run_chunk, fn, batch[i : i + size]))
            for i in range(0, len(batch), size)
        ]
        return Running(self, fn, batch, chunks)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[Outcome[R]]:
        """Run `fn` on every item; one outcome per item, in order."""
        yield from self.start_map(fn, items).outcomes()

    def call(self, fn: Callable[[T], R], item: T) -> R:
        """Run `fn` on one item in a worker (thread-safe); raise what `fn` raised.

        A worker that dies under it is replaced and the item tried once more; a second
        death raises `RuntimeError`. Raises `WorkerStopped` once the pool is closed.
        """
        return self._call(fn, item, attempts=2)

    def _call(self, fn: Callable[[T], R], item: T, attempts: int) -> R:
        if not self.pooled:
            return fn(item)
        for _attempt in range(attempts):
            fut = self._submit(fn, item)
            try:
                return fut.result()
            except BrokenProcessPool:
                if self._closed:
                    raise WorkerStopped("the worker pool was closed") from None
                self._replace(_executor_of(fut))
        raise RuntimeError(DIED_TWICE)

    def _isolated(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[Outcome[R]]:
        for item in items:
            try:
                # The item's first try was in the chunk that broke the pool: one more.
                yield Done(self._call(fn, item, attempts=1))
            except RuntimeError as exc:
                yield Failed(str(exc)) if str(exc) == DIED_TWICE else Failed(_one_line(exc))
            except WorkerStopped:
                raise
            except Exception as exc:
                yield Failed(_one_line(exc))

    def close(self) -> None:
        """Finish running work and stop the workers; later work raises `WorkerStopped`."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chunk_size(items: int, processes: int) -> int:
    """Items per task: one task per worker per batch, at most 16 items each.

    Each task costs the caller's process a round trip (pickling, the executor's
    threads: ~0.1-0.3 ms, as much as deciding a feed entry), so a batch is split no
    finer than the workers need to share it; the next batches, started before this one
    is decided, keep them busy meanwhile.
    """
    return max(1, min(16, -(-items // processes)))


def _executor_of(fut: Future[Any]) -> ProcessPoolExecutor | None:
    pool = fut.__dict__.get("_executor")
    return pool if isinstance(pool, ProcessPoolExecutor) else None


def _run_chunk(fn: Callable[[T], R], items: Sequence[T]) -> list[Outcome[R]]:
    return [_run_here(fn, item) for item in items]


def _run_here(fn: Callable[[T], R], item: T) -> Outcome[R]:
    try:
        return Done(fn(item))
    except Exception as exc:
        return Failed(_one_line(exc))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _ready(seconds: float) -> int:
    # Long enough that each of the start's tasks is taken by a different worker.
    time.sleep(seconds)
    return os.getpid()


# --- in the worker process ----------------------------------------------------------------


def _worker_start(parent: int, initializer: Callable[..., object] | None, args: Any) -> None:
    """Runs first in every worker: follow the parent, ignore Ctrl-C, run the initializer."""
    # Ctrl-C reaches the whole process group: the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    if initializer is not None:
        initializer(*args)


def _exit_with_parent(parent: int) -> None:
    # Once the parent is gone the worker is re-parented: no work can reach it any more.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


# --- spawning without the parent's __main__ -----------------------------------------------


class _LeanPopen(popen_spawn_posix.Popen):
    """`spawn`'s Popen, minus the instruction to re-run the parent's main module."""

    def _launch(self, process_obj: Any) -> None:  # CPython's own, with prep_data filtered
        from multiprocessing import resource_tracker

        tracker_fd = resource_tracker.getfd()
        fds: list[int] = self._fds  # type: ignore[attr-defined]
        if tracker_fd is not None:
            fds.append(tracker_fd)
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        fp = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, fp)
            reduction.dump(process_obj, fp)
        finally:
            set_spawning_popen(None)
        parent_r = child_w = child_r = parent_w = None
        try:
            parent_r, child_w = os.pipe()
            child_r, parent_w = os.pipe()
            cmd = spawn.get_command_line(tracker_fd=tracker_fd, pipe_handle=child_r)
            fds.extend([child_r, child_w])
            exe = spawn.get_executable()
            self.pid = util.spawnv_passfds(exe, cmd, fds)  # type: ignore[arg-type]
            self.sentinel = parent_r
            with open(parent_w, "wb", closefd=False) as f:
                f.write(fp.getbuffer())
        finally:
            self.finalizer = util.Finalize(
                self,
                util.close_fds,  # type: ignore[attr-defined]
                [fd for fd in (parent_r, parent_w) if fd is not None],
            )
            for fd in (child_r, child_w):
                if fd is not None:
                    os.close(fd)


class _LeanProcess(SpawnProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _LeanPopen(process_obj)


class LeanSpawnContext(SpawnContext):
    """The spawn start method, without importing the parent's `__main__` in the child."""

    Process = _LeanProcess
