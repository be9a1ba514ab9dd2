"""The story tier's take-over cost: rebuilding dedup state from story events vs deciding anew.

    .venv/bin/python scripts/bench_restore.py [--corpora PATH] [--limit N] [--window-hours H]

Runs the development corpus (`stories/gva-dev.jsonl`, real articles with real story
overlap) through `Deduplicator.assign` as the daemon would, keeping the story events it
would publish, then restores a fresh state from those events (`monitor.roles.restore`,
what `run --role stories` does on a take-over, without the Kafka read) and checks that
the restored state knows every item under the same story. CPU time (process_time) per
article for both; wall time is printed too but is noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpora import corpora_dir  # noqa: E402

from monitor.config import DedupSettings  # noqa: E402
from monitor.dedup import Deduplicator  # noqa: E402
from monitor.model import PASS_ALL, Article, stable_id  # noqa: E402
from monitor.publish.message import EventType, story_event  # noqa: E402
from monitor.roles.restore import restore  # noqa: E402
from monitor.state import connect  # noqa: E402


def load_articles(path: Path, limit: int) -> list[Article]:
    """The corpus's articles in publish order, as the story tier receives them."""
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    rows.sort(key=lambda r: (r.get("published") or "", r["id"]))
    fetched = datetime.now(UTC)
    out = []
    for row in rows[:limit]:
        published = datetime.fromisoformat(row["published"]) if row.get("published") else None
        if published is not None and published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        out.append(
            Article(
                item_id=stable_id("bench", row["id"]),
                input_id=row["id"],
                source=row.get("source") or "corpus",
                title=row["title"],
                text=row["text"],
                url=row.get("url"),
                published=published,
                fetched=fetched,
            )
        )
    return out


def fresh(window_hours: float) -> Deduplicator:
    """An in-memory dedup state, as a stories instance keeps it."""
    settings = DedupSettings(window_hours=window_hours)
    return Deduplicator.on_connection(settings, connect(":memory:"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", help="the development corpora folder")
    parser.add_argument("--limit", type=int, default=100_000, help="articles to use")
    parser.add_argument(
        "--window-hours",
        type=float,
        default=DedupSettings().window_hours,
        help="dedup window (default: the config's); a window over the whole corpus checks"
        " every item after the restore",
    )
    args = parser.parse_args()
    path = corpora_dir(args.corpora) / "stories" / "gva-dev.jsonl"
    if not path.is_file():
        print(f"bench_restore: {path} not found (give --corpora PATH)", file=sys.stderr)
        return 2
    articles = load_articles(path, args.limit)

    first = fresh(args.window_hours)
    values: list[bytes] = []
    cpu, wall = time.process_time(), time.perf_counter()
    for art in articles:
        if first.identity(art) is not None:
            continue
        got = first.assign(art)
        event: EventType = "story.created" if got.new else "story.updated"
        values.append(orjson.dumps(story_event(event, got.story_id, art, got.sources, PASS_ALL)))
    assign_cpu, assign_wall = time.process_time() - cpu, time.perf_counter() - wall
    # The events' encoding is the daemon's cost too, but not the decision's: take it out.
    cpu = time.process_time()
    for art in articles[: len(values)]:
        orjson.dumps(story_event("story.created", art.item_id, art, (), PASS_ALL))
    assign_cpu -= time.process_time() - cpu

    second = fresh(args.window_hours)
    cpu, wall = time.process_time(), time.perf_counter()
    report = restore(second, values)
    restore_cpu, restore_wall = time.process_time() - cpu, time.perf_counter() - wall

    # Items still in the window (the corpus spans years: older ones have expired in both).
    wrong = known = 0
    for art in articles:
        a, b = first.identity(art), second.identity(art)
        if a is None and b is None:
            continue
        known += 1
        if a is None or b is None or a.story_id != b.story_id:
            wrong += 1
    n = len(values)
    stories = sum(1 for v in values if b'"story.created"' in v)
    print(
        f"{len(articles)} articles, {n} story events ({stories} stories) from {path.name},"
        f" window {args.window_hours:g} h"
    )
    print(
        f"assign (decide and record): {assign_cpu / n * 1000:.2f} ms CPU/article"
        f" ({assign_wall / n * 1000:.2f} ms wall)"
    )
    print(
        f"restore from story events:  {restore_cpu / n * 1000:.2f} ms CPU/article"
        f" ({restore_wall / n * 1000:.2f} ms wall); {report.restored} restored,"
        f" {report.repeats} repeats, {report.skipped} skipped"
    )
    print(
        f"restore/assign CPU: {restore_cpu / assign_cpu:.2f}x; of {known} items in the window,"
        f" {wrong} known under another story (or not known) after the restore"
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
