"""Linux process checks for the broker: is a pid alive, is it our `kafka.Kafka`, its log."""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable
from pathlib import Path


def pdeathsig_hook() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when its parent dies, or None."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    # Resolved here, in the parent: between fork and exec (kafka-python's threads may be
    # running) the child must not import or dlopen anything, only make this one call.
    return lambda: prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _proc_stat(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None


def alive(pid: int) -> bool:
    """True if the pid exists and is not a zombie."""
    stat = _proc_stat(pid)
    if stat is None:
        return False
    # The state letter follows the ")" that closes the command name.
    return stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] not in ("Z", "X")


def is_our_broker(pid: int, properties: Path) -> bool:
    """True only for a live `java ... kafka.Kafka <properties>` process."""
    if pid <= 0 or not alive(pid):
        return False
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    argv = [a.decode(errors="replace") for a in args if a]
    return (
        bool(argv)
        and os.path.basename(argv[0]) == "java"
        and "kafka.Kafka" in argv
        and str(properties) in argv
    )


def read_from(path: Path, offset: int) -> str:
    """What `path` holds from byte `offset` on ("" if it cannot be read)."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def tail(path: Path, offset: int, lines: int = 25) -> str:
    """The last `lines` lines written to `path` since `offset`."""
    return "\n".join(read_from(path, offset).splitlines()[-lines:])


def port_clash(path: Path, offset: int) -> bool:
    """True when the log since `offset` says a port was already taken."""
    text = read_from(path, offset)
    return "Address already in use" in text or "BindException" in text
