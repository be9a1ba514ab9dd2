"""The time- and memory-limited process that extracts HTML pages (`HtmlExtractor`)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import monitor
from monitor.clean.html import Extracted, HtmlOptions

STARTUP_TIMEOUT_S = 60.0
CHILD_MODULE = "monitor.clean._extract_child"


class ExtractionError(Exception):
    """Extraction of one page failed (timeout, crash, parser error): the reason is the message."""


def child_command(fd: int, memory_mb: int) -> list[str]:
    """The child's command line: this interpreter, the small child module, no cwd on sys.path."""
    return [sys.executable, "-P", "-m", CHILD_MODULE, str(fd), str(memory_mb)]


def child_env() -> dict[str, str]:
    """The environment, with this `monitor` package's folder first on PYTHONPATH."""
    env = dict(os.environ)
    root = str(Path(monitor.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class HtmlExtractor:
    """Runs `extract_html` in a child process so a pathological page cannot stall the worker.

    The child is `python -m monitor.clean._extract_child`: it imports the extraction
    code only, whatever program started it. Its address space may grow by `memory_mb`
    beyond what it has mapped after its imports. A page that takes longer than
    `timeout_s` gets the process killed (and a new one started for the next page);
    the caller gets an `ExtractionError`. Thread-safe: calls are serialised on one child.
    """

    def __init__(self, options: HtmlOptions, timeout_s: float, memory_mb: int) -> None:
        self.options = options
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self.restarts = 0
        self.limit_bytes: int | None = None
        """The child's RLIMIT_AS (None: none could be set), known once it has started."""

    def _start(self) -> Connection:
        if self._conn is not None and self._proc is not None and self._proc.poll() is None:
            return self._conn
        self._stop()
        ours, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen(
                child_command(theirs.fileno(), self.memory_mb),
                pass_fds=(theirs.fileno(),),
                env=child_env(),
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            ours.close()
            raise ExtractionError(f"the extraction process did not start: {exc}") from None
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        self._proc, self._conn = proc, conn
        # Starting Python and importing trafilatura is not the page's fault:
        # wait for it outside the per-page time limit.
        reason = f"no answer within {STARTUP_TIMEOUT_S:g}s"
        try:
            conn.send(self.options)
            if conn.poll(STARTUP_TIMEOUT_S):
                status, value = conn.recv()
                if status == "ready":
                    self.limit_bytes = value
                    return conn
                reason = str(value)
        except (EOFError, OSError):
            reason = f"it exited with code {proc.wait(5)}"
        self._stop()
        raise ExtractionError(f"the extraction process did not start: {reason}")

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
        self._proc, self._conn = None, None

    def extract(self, html: str, url: str | None, find_date: bool = True) -> Extracted | None:
        """Extract one page within the time limit; raise ExtractionError on failure.

        `find_date=False`: the caller knows the page's date; htmldate is not run.
        """
        with self._lock:
            conn = self._start()
            try:
                conn.send((html, url, find_date))
                if not conn.poll(self.timeout_s):
                    self._stop()
                    self.restarts += 1
                    raise ExtractionError(f"extraction timed out after {self.timeout_s:g}s")
                status, value = conn.recv()
            except (EOFError, OSError) as exc:
                code = None
                if self._proc is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        code = self._proc.wait(timeout=5)
                self._stop()
                self.restarts += 1
                raise ExtractionError(
                    f"extraction process died (exit code {code}): {type(exc).__name__}"
                ) from None
            if status == "stop":  # out of memory: the next page gets a fresh process
                self._stop()
                self.restarts += 1
        if status in ("error", "stop"):
            raise ExtractionError(str(value))
        result: Extracted | None = value
        return result

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=5)
            self._stop()

    def __enter__(self) -> HtmlExtractor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
