"""A pool of worker processes for per-item CPU work, results back in submission order.

`WorkPool.map(fn, items)` runs a picklable module-level `fn` on each item in a
`ProcessPoolExecutor` (spawn context: a worker imports only what `fn` needs) and yields
one `Done` or `Failed` per item, in the items' order, so the caller (dedup, outbox) sees
the same sequence as with one process. An exception in `fn` is a `Failed` value. A worker
that dies (kill -9, OOM) breaks the executor: it is replaced and each item that had not
finished is run again once, alone, so an item whose retry also kills its worker is a
`Failed` naming the crash and the others complete. Nothing is dropped. With
`processes=1` the work runs in this process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Done(Generic[R]):
    """The item's result."""

    value: R


@dataclass(frozen=True, slots=True)
class Failed:
    """The item's work raised, or its worker process died twice: the reason, one line."""

    error: str


Outcome = Done[R] | Failed


class WorkPool:
    """`processes` worker processes (1: in this process); close() stops them."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError(f"worker.processes must be at least 1, got {processes}")
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self.restarts = 0
        """Times a dead worker broke the pool and it was replaced."""

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            ctx = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=ctx)
        return self._executor

    def _replace(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None
        self.restarts += 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[Outcome[R]]:
        """Run `fn` on every item; one outcome per item, in order."""
        batch = list(items)
        if self.processes == 1:
            yield from (_run_here(fn, item) for item in batch)
            return
        yield from self._run_pooled(fn, batch)

    def _run_pooled(self, fn: Callable[[T], R], batch: Sequence[T]) -> Iterator[Outcome[R]]:
        pool = self._pool()
        futures = [pool.submit(fn, item) for item in batch]
        for i, fut in enumerate(futures):
            try:
                yield Done(fut.result())
            except BrokenProcessPool:
                # A worker died: replace the pool and retry each unfinished item alone,
                # so the item that kills its worker again is the one that fails.
                self._replace()
                yield from self._isolated(fn, batch[i:], futures[i:])
                return
            except Exception as exc:  # the item's own error: a value, not a crash
                yield Failed(_one_line(exc))

    def _isolated(
        self, fn: Callable[[T], R], items: Sequence[T], futures: Sequence[Future[R]]
    ) -> Iterator[Outcome[R]]:
        for item, fut in zip(items, futures, strict=True):
            if fut.done() and not _broken(fut):
                yield _outcome(fut)  # finished before the crash
                continue
            retry = self._pool().submit(fn, item)
            if _broken(retry):
                self._replace()
                yield Failed("worker process died twice while processing this item")
            else:
                yield _outcome(retry)

    def close(self) -> None:
        """Finish running work and stop the workers."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> WorkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _broken(fut: Future[R]) -> bool:
    return isinstance(fut.exception(), BrokenProcessPool)


def _outcome(fut: Future[R]) -> Outcome[R]:
    exc = fut.exception()
    return Failed(_one_line(exc)) if exc is not None else Done(fut.result())


def _run_here(fn: Callable[[T], R], item: T) -> Outcome[R]:
    try:
        return Done(fn(item))
    except Exception as exc:
        return Failed(_one_line(exc))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
