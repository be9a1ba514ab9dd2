"""The memory row: RSS of the worker (`build_worker`) while many items go through it.

Run in a child process of its own (`python scripts/bench_memory.py --memory-child ...`), so its
RSS is the worker's and not the rest of the bench's; the child prints its rows as JSON.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from bench_common import DEVNULL, Report, Row, bench_settings, say
from bench_news import NewsGenerator

from monitor.logging import configure_logging
from monitor.model import RawItem
from monitor.pipeline import BATCH_SIZE
from monitor.wiring import build_worker

# --- memory --------------------------------------------------------------------------------------


def rss_parts_mib() -> tuple[float, float, float]:
    """Resident memory now, MiB: total, anonymous (the heap) and file-backed (mapped SQLite)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "RssAnon:", "RssFile:")):
            key, value = line.split(":", 1)
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("RssAnon", 0.0), fields.get("RssFile", 0.0)


def slope_per_k(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of (items, MiB) points, in MiB per 1,000 items."""
    if len(points) < 2:
        return 0.0
    mx = statistics.fmean(n for n, _ in points)
    my = statistics.fmean(v for _, v in points)
    var = sum((n - mx) ** 2 for n, _ in points)
    return sum((n - mx) * (v - my) for n, v in points) / var * 1000 if var else 0.0


def cache_fill(worker: Any) -> str:
    """How full the worker's bounded caches are (private attributes, read defensively)."""
    from monitor.dedup import features

    parts = []
    for name in ("term_id", "stem", "_word_term", "_fold_name"):
        fn = getattr(features, name, None)
        if fn is not None and hasattr(fn, "cache_info"):
            info = fn.cache_info()
            parts.append(f"dedup {name} LRU {info.currsize:,}/{info.maxsize:,}")
    templates = getattr(worker.stages.cleaner, "templates", None)
    sources = getattr(templates, "_sources", None)
    if isinstance(sources, dict) and templates is not None:
        lines = sum(len(getattr(v, "counts", ())) for v in sources.values())
        cap = f"{templates.max_lines:,} per source x {len(sources)} sources"
        if total := getattr(templates, "max_total", None):
            cap += f", {total:,} in all"
        parts.append(f"clean template lines {lines:,} (cap {cap})")
    return "; ".join(parts)


def term_cache_filling() -> str | None:
    """`term_id`'s LRU fill when it is not full yet (the RSS slope is then the cache filling)."""
    from monitor.dedup import features

    info = features.term_id.cache_info()
    if info.maxsize is None or info.currsize >= info.maxsize:
        return None
    return f"term_id LRU {info.currsize:,}/{info.maxsize:,}"


def bench_memory(
    report: Report, bootstrap: str, tmp: Path, count: int, window_items: int | None = None
) -> None:
    """RSS of the worker at checkpoints while `count` items with advancing times go through,
    `window_items` of them (default a third) in one dedup window."""
    gen = NewsGenerator(seed=23)
    settings = bench_settings(bootstrap, tmp / "memory" / "state.db")
    (tmp / "memory").mkdir()
    configure_logging(settings.logging, stream=DEVNULL)
    worker = build_worker(settings)
    worker.publisher.start()
    # Publish times advance so the 72 h window is full after a third of the run (or after
    # `window_items`) and then slides: RSS should stop growing from there on, once the
    # bounded caches are full.
    per_window = window_items or max(1, count // 3)
    step = timedelta(hours=settings.dedup.window_hours) / per_window
    span = step * count
    now = datetime.now(UTC)
    checkpoints = sorted({max(1, count * k // 20) for k in range(1, 21)})
    # (items, RSS, heap, mapped, state file MiB, seconds)
    points: list[tuple[int, float, float, float, float, float]] = []
    start = time.perf_counter()
    batch: list[RawItem] = []
    for total, n in enumerate(range(count), start=1):
        obj = gen.article(n)
        batch.append(
            RawItem(
                input_id=obj["id"], source=obj["source"], text=obj["text"], title=obj["title"],
                url=obj["url"], published=now - span + n * step,
            )
        )  # fmt: skip
        # Batches as the replay and the daemon run them (one group commit each).
        if len(batch) < BATCH_SIZE and total not in checkpoints:
            continue
        worker.pipeline.process_many(batch)
        batch = []
        if total in checkpoints:
            worker.publisher.flush(timeout=60)
            db = sum(p.stat().st_size for p in (tmp / "memory").glob("state.db*"))
            took = time.perf_counter() - start
            points.append((total, *rss_parts_mib(), db / 2**20, took))
            left = (count - total) / (total / took)
            say(
                f"memory: {total:,}/{count:,} items, RSS {points[-1][1]:.0f} MiB (heap "
                f"{points[-1][2]:.0f} + mapped {points[-1][3]:.0f}), state {points[-1][4]:.0f} "
                f"MiB, {total / took:,.0f} items/s, {left / 60:.0f} min to go"
            )
    caches = cache_fill(worker)
    filling = term_cache_filling()
    worker.publisher.close()
    worker.close()
    rate = count / points[-1][5]
    full = [p for p in points if p[0] >= per_window]
    growth = (full[-1][1] - full[0][1]) if len(full) > 1 else 0.0
    # Flat is judged on the last half: the window is full after a third, and bounded
    # caches (LRUs, the template learner, SQLite's page cache) fill on into the run.
    last = [p for p in points if p[0] >= count / 2]
    slope = slope_per_k([(p[0], p[1]) for p in last])
    heap_slope = slope_per_k([(p[0], p[2]) for p in last])
    end = points[-1]
    report.add(
        f"worker RSS after {count:,} items (window full after {per_window:,})",
        f"{end[1]:.0f} MiB (heap {end[2]:.0f} + mapped {end[3]:.0f}); last half "
        f"{slope:+.2f} MiB per 1,000 items (heap {heap_slope:+.2f}); {growth:+.0f} MiB "
        "since the window was full",
        "",
        "",
        "flat once full: last half <= +0.1 MiB per 1,000 items",
        # Under 0.1 MiB per 1,000 items, i.e. under 100 MiB over 1M items. A slope
        # while a bounded cache still fills is not yet a verdict: say so.
        "yes"
        if slope <= 0.1
        else f"NO ({filling} still filling: judge with --items 1000000)"
        if filling
        else "NO",
    )
    series = ", ".join(f"{p[0]:,}: {p[1]:.0f}" for p in points)
    report.notes.append(f"Worker RSS (MiB) at checkpoints (items: RSS): {series}.")
    report.notes.append(
        "State DB (MiB) at checkpoints: "
        + ", ".join(f"{p[0]:,}: {p[4]:.0f}" for p in points)
        + f"; {rate:,.0f} items/s over the run (1,000,000 items: ~{1e6 / rate / 3600:.1f} h)."
    )
    if caches:
        report.notes.append(f"Bounded caches at the end of the memory run: {caches}.")


def memory_in_child(
    report: Report, bootstrap: str, tmp: Path, count: int, window_items: int | None
) -> None:
    """Run the memory section in a fresh process: its RSS is the worker's, not the bench's."""

    window = ["--window-items", str(window_items)] if window_items else []
    child = ["--memory-child", bootstrap, str(tmp)]
    done = subprocess.run(
        [sys.executable, __file__, "--items", str(count), *window, *child],
        stdout=subprocess.PIPE,
        check=True,
    )
    result = orjson.loads(done.stdout.splitlines()[-1])
    for row in result["rows"]:
        report.rows.append(Row(*row))
    report.notes.extend(result["notes"])


def memory_child(bootstrap: str, tmp: Path, count: int, window_items: int | None) -> int:
    """The memory section's own process: print its rows and notes as one JSON line."""
    report = Report()
    bench_memory(report, bootstrap, tmp, count, window_items)
    rows = [[r.what, r.project, r.bare, r.ratio, r.target, r.met] for r in report.rows]
    print(orjson.dumps({"rows": rows, "notes": report.notes}).decode())
    return 0


def main(argv: list[str] | None = None) -> int:
    """The child process of `memory_in_child`."""
    ap = argparse.ArgumentParser(description="The memory row in a process of its own.")
    ap.add_argument("--items", type=int, required=True)
    ap.add_argument("--window-items", type=int)
    ap.add_argument("--memory-child", nargs=2, required=True, metavar=("BOOTSTRAP", "TMPDIR"))
    args = ap.parse_args(argv)
    return memory_child(
        args.memory_child[0], Path(args.memory_child[1]), args.items, args.window_items
    )


if __name__ == "__main__":
    raise SystemExit(main())
