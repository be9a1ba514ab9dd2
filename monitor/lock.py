"""One worker per state database: an exclusive `fcntl` lock on a file beside it.

The daemon, `run --once` and `replay` share the outbox and the dedup index of their
state database, so a second one on the same database is refused with a one-line
error naming the path and the setting. The kernel drops the lock when its process
ends in any way (even `kill -9`), so a stale lock file never blocks a restart; the
file itself stays (removing it could let two processes lock two different files).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from monitor.config_errors import ConfigError, ConfigProblem


class StateLocked(ConfigError):
    """The state database is held by another process."""


def lock_path(db: Path) -> Path:
    """The lock file of a state database: `monitor.db` -> `monitor.db.lock`."""
    return db.with_name(db.name + ".lock")


class StateLock:
    """An exclusive lock on a state database, held until `release` or process exit."""

    def __init__(self, db: Path, fd: int) -> None:
        self.db = db
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, db: Path, origin: str) -> StateLock:
        """Lock `db`, or raise `StateLocked` naming it, the holder and `state.path`.

        `origin` is where `state.path` was set (the config file or `env NAME`).
        """
        path = lock_path(db)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            reason = (
                f"{db} is in use by another news-monitor (pid {holder}, lock file {path}):"
                " stop it first, or set state.path (NEWS_MONITOR_STATE__PATH) to another database"
            )
            raise StateLocked(
                [ConfigProblem(file=origin, key="state.path", reason=reason)]
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(db, fd)

    def release(self) -> None:
        """Give the lock up (closing the file releases it); a second call does nothing."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
