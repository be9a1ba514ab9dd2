#!/usr/bin/env python
"""The whole worker and its parts, each figure beside the bare library doing the same work.

One command, by hand (never in tests). It starts its own local Kafka broker
(`devkafka`, scripts/devkafka), runs the sections below in this one process (dedup probes
and the memory row in child processes), stops the broker and prints one table. Each
section is a module of its own that adds its rows to the table (bench_text.py,
bench_publish.py, bench_html.py, bench_dedup.py, bench_filters.py, bench_feeds.py,
bench_memory.py; shared parts in bench_common.py and bench_news.py); this file drives them.

  text    synthetic news articles (2-4 KB, distinct stories) replayed from a .jsonl file
          through `build_stages/build_pipeline/kafka_publisher` (the `news-monitor replay`
          path, default config, filters on) into local Kafka: items/s and read->ack
          latency, once with every item on topic (the worst case: every item goes through
          story assignment and is published) and once with 1 in --on-topic-every (10) on
          topic; then the publish path (outbox + KafkaSink) on the first run's messages
          beside bare kafka-python with the same producer settings.
  publish the publish rows of `text` alone (quicker): the messages of --text-items stories
          (default 500) made by the real pipeline with a capturing sink, then the publish
          path beside bare kafka-python.
  html    pages/s of the clean stage beside bare `trafilatura.extract` on the same pages.
  dedup   per-item cost and memory with 10k/100k/1M indexed stories (bench_dedup.py).
  filters alias matching with 10, 1k, 100k aliases (bench_filters.py).
  feeds   polls/s and CPU per poll against a local server (bench_feeds.py).
  scale   the daemon's path with 1 and with 2 worker processes in the same run: feed polling
          (every feed changed, --feeds) and HTML pages (--pages), items/s and their ratio
          (target >= 1.7x), CPU per item of the process tree (bench_scale.py; no broker: a
          dry-run sink, so the broker's CPU does not share the cores).
  memory  RSS of the worker (`build_worker`) at 20 checkpoints while --items items with
          advancing publish times go through it in batches of 64 (the 72 h dedup window is
          full after a third of them, or after --window-items, then slides); flat is
          judged on the RSS slope over the last half of the run.

    python scripts/bench.py [--quick] [--items N] [--window-items N] [--only text,html,...]
                            [--on-topic-every N] [--corpora PATH] [--pages N] [--feeds N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from corpora import ROOT, corpora_dir

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_common import Report, machine, say

# Each section's module is imported when the section runs: a run loads only what it measures.
SECTIONS = ("text", "publish", "html", "dedup", "filters", "feeds", "memory", "scale")


# --- main ----------------------------------------------------------------------------------------


def pin_split() -> tuple[set[int], set[int]] | None:
    """(CPUs for the broker, CPUs for the bench): the last CPU and the others; None if < 2."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[-1]}, set(cpus[:-1])


@contextlib.contextmanager
def broker_in(tmp: Path, split: tuple[set[int], set[int]] | None = None) -> Iterator[str]:
    """A local Kafka broker for the run; stopped on exit.

    With `split` (from `pin_split`), the broker runs on the last CPU (the JVM inherits the
    CPU set of the process that starts it) and this process and its children on the
    others, so the two do not take turns on one core: on 2 cores the ratios to the bare
    libraries otherwise move 15-20 points between runs with the broker's background work.
    """
    from devkafka import start_broker

    everything = os.sched_getaffinity(0) if split else set()
    t = time.perf_counter()
    if split:
        os.sched_setaffinity(0, split[0])
        try:
            broker = start_broker(tmp / "kafka")
        finally:
            os.sched_setaffinity(0, split[1])
        say(f"kafka: broker pinned to CPU {sorted(split[0])}, the bench to {sorted(split[1])}")
    else:
        broker = start_broker(tmp / "kafka")
    say(f"kafka: broker at {broker.bootstrap} ready in {time.perf_counter() - t:.1f} s")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
        if split:
            os.sched_setaffinity(0, everything)


def main(argv: list[str] | None = None) -> int:
    """Run the sections and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, no 1M dedup index")
    ap.add_argument("--items", type=int, help="items through the worker for the memory row")
    ap.add_argument(
        "--window-items",
        type=int,
        help="items per dedup window in the memory run (default: a third of --items)",
    )
    ap.add_argument("--text-items", type=int, help="stories for the text replay row")
    ap.add_argument(
        "--on-topic-every",
        type=int,
        default=10,
        metavar="N",
        help="the second text replay has 1 story in N on topic, the rest filtered out (default 10)",
    )
    ap.add_argument("--pages", type=int, help="HTML pages")
    ap.add_argument("--feeds", type=int, help="feeds for the scale row (default 400)")
    ap.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    ap.add_argument("--corpora", help="corpora folder (default: shared/corpora beside the repo)")
    ap.add_argument(
        "--no-pin",
        action="store_true",
        help="let the broker and the bench share every CPU (default: the broker gets the last"
        " CPU to itself, the bench the others)",
    )
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    if only - set(SECTIONS):
        ap.error(f"unknown sections: {', '.join(sorted(only - set(SECTIONS)))}")
    quick = args.quick
    text_items = args.text_items or (1_000 if quick else 3_000)
    pages = args.pages or (40 if quick else 150)
    # The worker runs ~120-140 items/s here in batches (bounded by dedup's story
    # assignment): the default takes ~3 min; --items 1000000 (the full target) ~2-2.5 h.
    items = args.items or (3_000 if quick else 20_000)
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    report = Report()
    began = time.perf_counter()
    header = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}"
    say(f"bench: {header}")
    tmp = Path(tempfile.mkdtemp(prefix="news-monitor-bench-"))
    try:
        # HTML first, in a young process: after the text replay the same pages measured
        # slower (0.66x instead of ~0.8x), the worker's heap being full of other work.
        if "html" in only:
            from bench_html import bench_html

            bench_html(report, corpora_dir(args.corpora), pages)
        with contextlib.ExitStack() as stack:
            bootstrap = ""
            if only & {"text", "publish", "memory"}:
                split = None if args.no_pin else pin_split()
                bootstrap = stack.enter_context(broker_in(tmp, split))
                if split:
                    report.notes.append(
                        f"The Kafka broker ran on CPU {sorted(split[0])} alone, the bench and its"
                        f" children on {sorted(split[1])} (`--no-pin` to share them)."
                    )
            if "text" in only:
                from bench_text import bench_text

                bench_text(report, bootstrap, tmp, text_items, args.on_topic_every)
            elif "publish" in only:  # text includes the publish rows
                from bench_publish import bench_publish_only

                bench_publish_only(report, bootstrap, tmp, args.text_items or 500)
            if "memory" in only:
                from bench_memory import memory_in_child

                memory_in_child(report, bootstrap, tmp, items, args.window_items)
        if "dedup" in only:
            from bench_dedup import bench_dedup

            bench_dedup(report, sizes, 100 if quick else 200)
        if "filters" in only:
            from bench_filters import bench_filters

            bench_filters(report, [10, 1_000, 100_000], 3 if quick else 10)
        if "feeds" in only:
            from bench_feeds import bench_feeds

            bench_feeds(report, 500 if quick else 2_000)
        if "scale" in only:
            from bench_scale import bench_scale

            scale_feeds = args.feeds or (100 if quick else 400)
            bench_scale(report, corpora_dir(args.corpora), scale_feeds, pages)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    took = time.perf_counter() - began
    print(
        f"news-monitor bench, {header} (end: load {os.getloadavg()[0]:.2f}); "
        f"{'--quick, ' if quick else ''}took {took / 60:.1f} min\n"
    )
    print(report.render())
    if report.notes:
        print()
        for note in report.notes:
            print(f"- {note}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"- Peak RSS of the bench process: {peak:.0f} MiB.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
