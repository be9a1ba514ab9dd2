"""The HTML extraction child: `python -P -m monitor.clean._extract_child FD MEMORY_MB`.

Started by `monitor.clean.process.HtmlExtractor` as its own small main module, so it
imports only the extraction code, never the parent's `__main__` (the `news-monitor`
console script pulls in the whole CLI, and rensa alone reserves ~1 GB of address
space at import). It speaks pickled messages over the socket `FD`:

  parent -> child  `HtmlOptions` once, then `(html, url, find_date)` per page, `None` to stop
  child -> parent  `("ready", limit_bytes | None)` or `("error", reason)` once, then
                   `("ok", Extracted | None)`, `("error", reason)` or, after running out
                   of memory, `("stop", reason)` (and it exits) per page
"""

from __future__ import annotations

import signal
import sys
from multiprocessing.connection import Connection

from monitor.clean.html import HtmlOptions, extract_html

_WARM_UP = (
    "<html><head><title>Warm up</title>"
    '<meta property="article:published_time" content="2024-01-02"></head><body><article>'
    + "<p>A short paragraph of text, long enough to be taken for a sentence of an article.</p>" * 4
    + "</article></body></html>"
)
"""One small page extracted before the limit is set, so lazy imports are already mapped."""


def mapped_bytes(field: str = "VmSize") -> int | None:
    """Address space mapped now (VmSize) or at most so far (VmPeak); None without /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def address_space_limit(mapped: int, memory_mb: int, hard: int) -> int:
    """The RLIMIT_AS that lets extraction add `memory_mb` to what is mapped (within `hard`)."""
    import resource

    limit = mapped + memory_mb * 1024 * 1024
    return limit if hard == resource.RLIM_INFINITY else min(limit, hard)


def limit_memory(memory_mb: int) -> int | None:
    """Cap the address space at the most mapped so far plus `memory_mb`; the limit, or None.

    RLIMIT_AS counts address space, not memory used: imports may reserve far more than
    they touch (rensa, imported by the CLI, reserves ~1 GB). Measured after the imports
    and a warm-up page, the limit bounds what extraction of a page adds to a warm process.
    """
    try:
        import resource
    except ImportError:  # not a Unix: no limit
        return None
    mapped = max(mapped_bytes("VmSize") or 0, mapped_bytes("VmPeak") or 0)
    if not mapped:
        return None
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = address_space_limit(mapped, memory_mb, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        return None
    return limit


def out_of_memory(limit: int | None, memory_mb: int) -> bool:
    """Whether the address space came close to `limit`: within 16 MiB or a quarter of the budget."""
    peak = mapped_bytes("VmPeak")
    margin = min(16, memory_mb / 4) * 1024 * 1024
    return limit is not None and peak is not None and peak >= limit - margin


def serve(conn: Connection, memory_mb: int) -> None:
    """Extract each page sent on `conn`; answer with a result or an error, never raise."""
    try:
        options: HtmlOptions = conn.recv()
        extract_html(_WARM_UP, None, options)
        limit = limit_memory(memory_mb)
    except Exception as exc:  # report why, instead of a traceback on the parent's stderr
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", limit))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        html, url, find_date = request
        try:
            answer: tuple[str, object] = ("ok", extract_html(html, url, options, find_date))
            error, oom = "", False
        except Exception as exc:  # any failure of a third-party parser is a value
            error, oom = f"{type(exc).__name__}: {exc}", isinstance(exc, MemoryError)
            answer = ("error", f"extraction failed: {error}")
        if oom or out_of_memory(limit, memory_mb):
            # A failed allocation shows as MemoryError, as e.g. lxml's "XPathEvalError:
            # unknown error", or as no result at all (trafilatura swallows some errors).
            # "stop": the parent replaces this process before the next page.
            why = f": {error}" if error else ""
            answer = ("stop", f"extraction ran out of memory (limit {memory_mb} MB){why}")
        conn.send(answer)
        if answer[0] == "stop":
            return


def main(argv: list[str]) -> int:
    """Serve the parent on the socket passed as the first argument."""
    # Ctrl-C reaches the whole process group: the parent decides when this child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd, memory_mb = int(argv[0]), int(argv[1])
    conn = Connection(fd)
    try:
        serve(conn, memory_mb)
    except (EOFError, OSError):  # the parent went away
        return 0
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
