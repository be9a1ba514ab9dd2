"""What the benchmark sections share: the result table, small measures, the bench settings.

Each section (bench_text, bench_publish, bench_html, bench_dedup, bench_filters,
bench_feeds, bench_memory) adds its rows to a `Report`; scripts/bench.py prints it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from monitor.config import Settings, load_settings

# Log lines are formatted as in production and thrown away; open for the whole run, as
# kafka-python's threads may still log while they close.
DEVNULL = open(os.devnull, "w")  # noqa: SIM115


# --- the table -----------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the result table."""

    what: str
    project: str
    bare: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


@dataclass
class Report:
    """Rows collected by the sections, printed at the end."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: str) -> None:
        """Add a row and echo it at once (a long run shows progress)."""
        row = Row(*args)
        self.rows.append(row)
        say(f"  -> {row.what}: {row.project} | bare {row.bare or '-'} | {row.ratio} {row.met}")

    def render(self) -> str:
        """Return the table as Markdown."""
        head = ("what", "news-monitor", "bare library", "ratio", "target", "met")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            cells = (r.what, r.project, r.bare, r.ratio, r.target, r.met)
            lines.append("| " + " | ".join(c or "" for c in cells) + " |")
        return "\n".join(lines)


def say(msg: str) -> None:
    """Progress on stderr; the table goes to stdout."""
    print(msg, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory now, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child_rss_mib() -> float:
    """RSS of this process's live children (the HTML extraction process), MiB."""
    total = 0.0
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                total += rss_mib(stat.parent.name)
        except (OSError, IndexError, ValueError):
            continue
    return total


def machine() -> str:
    """nproc, CPU model and load average, for the report header."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, load average {load}"


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- settings, broker ------------------------------------------------------------------------


def bench_settings(bootstrap: str, state: Path) -> Settings:
    """The default config, pointed at the bench broker and a fresh state file."""
    os.environ["NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS"] = bootstrap
    os.environ["NEWS_MONITOR_STATE__PATH"] = str(state)
    os.environ["NEWS_MONITOR_OBSERVE__ENABLED"] = "false"
    try:
        return load_settings()
    finally:
        for key in ("NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS", "NEWS_MONITOR_STATE__PATH"):
            os.environ.pop(key, None)
