#!/usr/bin/env python
"""Profile the text replay path in one process, without Kafka: where an item's time goes.

The same synthetic stories as `bench.py --only text` go through
`build_stages`/`build_pipeline` (default config, filters on) with the real outbox on
the state connection and a sink that acknowledges at once, in batches of
`BATCH_SIZE` (as `news-monitor replay` runs them), with decision log lines formatted
as JSON into /dev/null. Prints items/s and CPU per item; `--profile` runs it under
pyinstrument (a dev tool: `pip install pyinstrument`) and prints the call tree;
`--decisions FILE` writes every decision as a JSON line, to check that a change
leaves the decisions the same (`cmp` two runs); `--parts` prints the CPU time of the
parts of `Deduplicator.identity` and `assign` per item.

    python scripts/profile_text.py [--items 1000] [--profile] [--decisions out.jsonl]
                                   [--on-topic-every N] [--stages] [--parts]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from bench_common import DEVNULL, bench_settings
from bench_news import NewsGenerator
from bench_publish import _NullSink
from bench_text import StageClock, warm_up
from corpora import ROOT

sys.path.insert(0, str(ROOT))

from connectors.replay import ReplayConnector
from monitor.logging import configure_logging
from monitor.model import Decision
from monitor.pipeline import BATCH_SIZE
from monitor.publish import Publisher
from monitor.publish.outbox import Outbox
from monitor.wiring import build_pipeline, build_stages


def main() -> None:
    """Run the items, print the rate; optionally profile and dump the decisions."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--profile", action="store_true", help="run under pyinstrument")
    ap.add_argument("--decisions", type=Path, help="write every decision here (JSON lines)")
    ap.add_argument("--stages", action="store_true", help="print wall time per stage")
    ap.add_argument("--parts", action="store_true", help="print CPU time per part of dedup")
    ap.add_argument(
        "--on-topic-every",
        type=int,
        default=1,
        metavar="N",
        help="only every N-th story on topic; the rest are filtered out (default 1: all)",
    )
    ap.add_argument("--interval", type=float, default=0.0005, help="pyinstrument sampling (s)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        data = tmp / "news"
        data.mkdir()
        # A fixed start: the decisions of two runs can be compared line by line.
        start = datetime(2026, 11, 1, tzinfo=UTC)
        step = timedelta(seconds=24 * 3600 / args.items)
        NewsGenerator(on_topic_every=args.on_topic_every).write(data, args.items, start, step)
        settings = bench_settings("localhost:9", tmp / "state.db")
        configure_logging(settings.logging, stream=DEVNULL)
        warm_up(settings, tmp)
        stages = build_stages(settings, state_path=settings.state_path)
        outbox = Outbox(max_pending=10_000_000, connection=stages.state)
        publisher = Publisher(_NullSink, outbox)
        publisher.start()
        decisions: list[Decision] = []
        pipeline = build_pipeline(settings, stages, publisher, hooks=(decisions.append,))
        items = ReplayConnector([data]).items()
        batches = []
        while batch := list(islice(items, BATCH_SIZE)):
            batches.append(batch)

        clock = StageClock()
        if args.stages:
            clock.wrap(stages.cleaner, "clean", "clean")
            clock.wrap(stages.dedup, "identity", "dedup identity")
            clock.wrap(stages.dedup, "assign", "dedup assign (story)")
            if stages.relevance is not None:
                clock.wrap(stages.relevance, "evaluate", "filters")
            clock.wrap(publisher, "stage", "publish: outbox put")
            clock.wrap(pipeline, "_record", "decision log line")
            clock.transactions()
        parts = StageClock(time.process_time)
        if args.parts:
            time_dedup_parts(parts)
        profiler: Any = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=args.interval)
            profiler.start()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for batch in batches:
            pipeline.process_many(batch)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        parts_spent = dict(parts.spent)  # before close(), which writes pending counts
        if profiler is not None:
            profiler.stop()
        stages.close()

    outcomes: dict[str, int] = {}
    for dec in decisions:
        outcomes[dec.outcome.value] = outcomes.get(dec.outcome.value, 0) + 1
    n = args.items
    print(
        f"{n} items: {n / wall:,.0f} items/s, {cpu / n * 1000:.2f} ms CPU/item, "
        f"{wall / n * 1000:.2f} ms wall/item; {outcomes}"
    )
    if clock.spent:
        stage_times = sorted(clock.spent.items(), key=lambda kv: -kv[1])
        print("; ".join(f"{k} {v / n * 1000:.2f} ms" for k, v in stage_times))
    if parts_spent:
        ranked = sorted(parts_spent.items(), key=lambda kv: -kv[1])
        print("dedup, CPU: " + "; ".join(f"{k} {v / n * 1000:.3f} ms" for k, v in ranked))
    if args.decisions:
        with args.decisions.open("wb") as f:
            for dec in decisions:
                f.write(
                    orjson.dumps(
                        {
                            "input_id": dec.input_id,
                            "outcome": dec.outcome.value,
                            "item_id": dec.item_id,
                            "story_id": dec.story_id,
                            "reason": dec.reason,
                            "score": dec.score,
                            "layer": dec.layer,
                            "details": dec.details,
                        },
                        option=orjson.OPT_SORT_KEYS,
                    )
                    + b"\n"
                )
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    if os.environ.get("PROFILE_HTML"):
        Path(os.environ["PROFILE_HTML"]).write_text(profiler.output_html())


def time_dedup_parts(parts: StageClock) -> None:
    """Wrap the parts of `Deduplicator.identity` and `assign` (all instances) in `parts`."""
    import monitor.dedup as dedup_module
    from monitor.dedup import cluster, docfreq, store

    for obj, name, label in (
        (dedup_module.Deduplicator, "identity", "identity()"),
        (dedup_module.Deduplicator, "assign", "assign()"),
        (dedup_module, "identity_keys", "identity keys"),
        (dedup_module, "extract", "features"),
        (dedup_module, "weigh", "weighing"),
        (dedup_module.near, "signature", "MinHash"),
        (store.SqliteStore, "doc_counts", "DF look-ups"),
        (store.SqliteStore, "add", "SqliteStore.add"),
        (docfreq.DocFreqs, "flush", "DF writes (in add)"),
        (store.SqliteStore, "near", "near-copy look-up"),
        (cluster.StoryClusterer, "decide", "best story"),
        (cluster.StoryClusterer, "add", "story update"),
        (store.SqliteStore, "sources", "sources read-back"),
    ):
        parts.wrap(obj, name, label)


if __name__ == "__main__":
    main()
