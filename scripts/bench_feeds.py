"""Poll N locally served feeds with the real FeedPoller; print polls/s, CPU per poll, memory.

The feed server runs in a separate process (scripts/_bench_server.py), so only the
poller's CPU is counted. Three rounds over the same feeds:
  cold    first poll: every feed is new, 10 entries each are parsed and handed on;
  steady  --changed-pct of the feeds have one new entry; the rest answer 304
          (ETag) or, for the 20% without validators, resend an unchanged body;
  idle    nothing changed.
Target: one worker keeps up with 50,000 feeds every 15 minutes (55.6 polls/s).
Run: python scripts/bench_feeds.py [--feeds 5000] [--pool 16] [--changed-pct 5] [--repeat 1]
`--repeat N` adds N-1 more first polls, each of other new feeds with a new state file, each
beside bare urllib3 + feedparser on the same feeds, and prints every first-poll CPU ratio.
`--parts` prints instead where a first poll's CPU goes beside the bare loop's (one thread).
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_server import start_server
from bench_common import Report

from connectors.poller import FeedPoller
from monitor.config import HttpSettings, Settings, SourceSettings
from monitor.model import RawItem, utcnow
from monitor.scheduler import SourceScheduler

TARGET = 50_000 / (15 * 60)
FIRST_POLL_TARGET = 1.5
"""Issue #18: a first poll costs at most this many times bare urllib3 + feedparser's CPU."""


def rss_mib() -> float:
    """Current resident memory of this process, MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


@dataclass(frozen=True)
class Round:
    """One round of polls: every feed polled once."""

    polls_per_s: float
    cpu_ms: float
    """CPU per poll, ms."""
    items: int
    errors: int


def run_round(label: str, poller: FeedPoller, feeds: int) -> Round:
    """Poll every feed once; print the figures and return them."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    items = errors = 0
    for polled in poller.poll_once():
        errors += polled.failed
        for out in poller.deliver(polled):
            if isinstance(out, RawItem):
                items += 1
            else:
                errors += 1
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    cpu_ms = cpu / feeds * 1000
    core_share = TARGET * cpu_ms / 1000
    print(
        f"{label:7s} {feeds / wall:7.1f} polls/s  {cpu_ms:6.2f} ms CPU/poll  "
        f"items {items:6d}  errors {errors:3d}  RSS {rss_mib():6.1f} MiB  "
        f"-> 50k feeds/15 min needs {core_share * 100:4.1f}% of a core"
    )
    return Round(feeds / wall, cpu_ms, items, errors)


def bench_schedule(jobs: int, port: int, tmp: Path) -> None:
    """Cost of the APScheduler side at full size: add N jobs, move each one's next run."""
    sources = [
        SourceSettings(name=f"j{n}", url=f"http://127.0.0.1:{port}/feed/{n}") for n in range(jobs)
    ]
    settings = Settings(http=HttpSettings(allow_private=["127.0.0.1"]), sources=sources)
    before = rss_mib()
    with FeedPoller(settings, tmp / "sched.db") as poller:
        cpu0 = time.process_time()
        sched = SourceScheduler(settings, poller)
        sched.start(lambda item: None, paused=True)
        add_cpu = time.process_time() - cpu0
        cpu0 = time.process_time()
        later = utcnow() + timedelta(hours=1)
        for n in range(jobs):
            sched.scheduler.modify_job(f"j{n}", next_run_time=later + timedelta(seconds=n % 900))
        mod_cpu = time.process_time() - cpu0
        sched.shutdown(wait=False)
    print(
        f"scheduler: {jobs} jobs added in {add_cpu:.1f} s CPU (incl. feed_state rows), "
        f"{mod_cpu / jobs * 1e6:.0f} us CPU per next-run update, "
        f"+{rss_mib() - before:.0f} MiB RSS"
    )


def main() -> None:
    """Start the server, run the three rounds, stop the server."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--feeds", type=int, default=5000)
    ap.add_argument("--pool", type=int, default=16)
    ap.add_argument("--changed-pct", type=float, default=5.0)
    ap.add_argument("--jobs", type=int, default=50_000, help="scheduler jobs to add (0: skip)")
    ap.add_argument("--repeat", type=int, default=1, help="first polls to measure (new feeds)")
    ap.add_argument("--parts", action="store_true", help="a first poll's CPU by part, then exit")
    args = ap.parse_args()
    proc, port = start_server()
    try:
        if args.parts:
            first_poll_parts(port)
            return
        with tempfile.TemporaryDirectory() as tmp:
            sources = [
                SourceSettings(name=f"f{n}", url=f"http://127.0.0.1:{port}/feed/{n}")
                for n in range(args.feeds)
            ]
            settings = Settings(
                http=HttpSettings(
                    allow_private=["127.0.0.1"],
                    # One local host stands in for thousands of real ones.
                    per_host_delay_s=0,
                    per_host_concurrency=args.pool,
                    pool_size=args.pool,
                ),
                sources=sources,
            )
            print(f"{args.feeds} feeds, pool {args.pool}, target {TARGET:.1f} polls/s")
            with FeedPoller(settings, Path(tmp) / "state.db") as poller:
                cold = run_round("cold", poller, args.feeds)
                bare_text, bare_ms = bare_feeds(port, args.feeds)
                print(f"bare    {bare_text}")
                print(f"first poll {first_poll_ratio(cold.cpu_ms, bare_ms)}")
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/bump?pct={args.changed_pct}&n={args.feeds}"
                ).read()
                run_round("steady", poller, args.feeds)
                run_round("idle", poller, args.feeds)
            ratios = [cold.cpu_ms / bare_ms]
            for n in range(1, args.repeat):
                ratios.append(first_poll_again(settings, port, n * args.feeds, Path(tmp)))
            if args.repeat > 1:
                print("first poll / bare CPU, each run: " + ", ".join(f"{r:.2f}x" for r in ratios))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS {peak:.1f} MiB")
            if args.jobs:
                bench_schedule(args.jobs, port, Path(tmp))
    finally:
        proc.terminate()


def first_poll_parts(port: int, polls: int = 200, rounds: int = 5) -> None:
    """A first poll's CPU by part beside bare urllib3 + feedparser's, in one thread.

    Each part runs `rounds` times over `polls` new feeds, the parts interleaved; the
    median per poll is printed. "poller's own work" is `poll` + `deliver` of a new feed
    with the fetch and the parse answered from memory: state, items, SQLite transaction.
    """
    import statistics

    import feedparser
    import urllib3

    from connectors.feeds import parse_feed
    from connectors.http import HttpResponse, PoliteClient
    from connectors.poller import FEED_ACCEPT, feed_content_type

    url = f"http://127.0.0.1:{port}/feed/"
    body = urllib3.PoolManager().request("GET", url + "0").data
    ctype = "application/rss+xml; charset=utf-8"
    canned = HttpResponse(url + "0", 200, {"content-type": ctype, "etag": '"0-0"'}, body)
    parsed = parse_feed(body, source="f0", url=url + "0", content_type=ctype)
    pool = urllib3.PoolManager()
    http = HttpSettings(allow_private=["127.0.0.1"], per_host_delay_s=0)
    client = PoliteClient(http)
    settings = Settings(
        http=http,
        sources=[SourceSettings(name=f"f{n}", url=f"{url}{n}") for n in range(polls * rounds)],
    )
    with tempfile.TemporaryDirectory() as tmp, client:
        poller = FeedPoller(settings, Path(tmp) / "parts.db", parse=lambda *a, **k: parsed)
        poller.client.get = lambda *a, **k: canned  # type: ignore[method-assign]
        sources = iter(settings.sources)
        parts: dict[str, Callable[[int], object]] = {
            "bare: urllib3 GET": lambda n: pool.request("GET", f"{url}{n}").data,
            "PoliteClient.get": lambda n: client.get(
                f"{url}{n}", accept=FEED_ACCEPT, content_type_check=feed_content_type
            ),
            "bare: feedparser.parse": lambda n: feedparser.parse(body),
            "parse_feed (items, base check)": lambda n: parse_feed(
                body, source=f"f{n}", url=f"{url}{n}", content_type=ctype
            ),
            "poller's own work": lambda n: list(poller.deliver(poller.poll(next(sources)))),
        }
        cpu: dict[str, list[float]] = {name: [] for name in parts}
        for _ in range(rounds):
            for name, part in parts.items():
                cpu0 = time.process_time()
                for n in range(polls):
                    part(n)  # nothing kept: each result is garbage at once, as in a poll
                cpu[name].append((time.process_time() - cpu0) / polls * 1000)
        poller.close()
    for name, ms in cpu.items():
        print(f"{name:32s} {statistics.median(ms):6.3f} ms CPU/poll (median of {rounds})")


def first_poll_again(settings: Settings, port: int, offset: int, tmp: Path) -> float:
    """One more first poll, of feeds `offset`.. (new to the server too), beside bare."""
    feeds = len(settings.sources)
    sources = [
        SourceSettings(name=f"f{n}", url=f"http://127.0.0.1:{port}/feed/{n}")
        for n in range(offset, offset + feeds)
    ]
    again = settings.model_copy(update={"sources": sources})
    with FeedPoller(again, tmp / f"state-{offset}.db") as poller:
        cold = run_round("cold", poller, feeds)
    bare_text, bare_ms = bare_feeds(port, feeds, offset)
    print(f"bare    {bare_text}")
    print(f"first poll {first_poll_ratio(cold.cpu_ms, bare_ms)}")
    return cold.cpu_ms / bare_ms


def bench_feeds(report: Report, feeds: int) -> None:
    """Polls/s and CPU per poll against a local server (bench_feeds.run_round)."""
    proc, port = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sources = [
                SourceSettings(name=f"f{n}", url=f"http://127.0.0.1:{port}/feed/{n}")
                for n in range(feeds)
            ]
            settings = Settings(
                http=HttpSettings(
                    allow_private=["127.0.0.1"], per_host_delay_s=0,
                    per_host_concurrency=16, pool_size=16,
                ),
                sources=sources,
            )  # fmt: skip
            with FeedPoller(settings, Path(tmp) / "state.db") as poller:
                rounds = {}
                for label in ("cold", "steady", "idle"):
                    if label == "steady":
                        urllib.request.urlopen(
                            f"http://127.0.0.1:{port}/bump?pct=5&n={feeds}"
                        ).read()
                    with contextlib.redirect_stdout(sys.stderr):  # progress here
                        rounds[label] = run_round(label, poller, feeds)
            # Bare: the same URLs fetched by urllib3 and parsed by feedparser, in one thread.
            bare, bare_ms = bare_feeds(port, feeds)
    finally:
        proc.terminate()
    for label, r in rounds.items():
        what = {"cold": "first poll, every feed new", "steady": "5% of feeds changed",
                "idle": "nothing changed (304s)"}[label]  # fmt: skip
        report.add(
            f"feed polling, {feeds} feeds, {what}",
            f"{r.polls_per_s:.1f} polls/s, {r.cpu_ms:.2f} ms CPU/poll ({r.items} items)",
            f"{bare}; {first_poll_ratio(r.cpu_ms, bare_ms)}" if label == "cold" else "",
        )


def first_poll_ratio(first_ms: float, bare_ms: float) -> str:
    """The first poll's CPU over bare urllib3 + feedparser's, beside the target."""
    ratio = first_ms / bare_ms if bare_ms > 0 else float("inf")
    return f"{ratio:.2f}x bare CPU (target <= {FIRST_POLL_TARGET}x)"


def bare_feeds(port: int, feeds: int, offset: int = 0) -> tuple[str, float]:
    """Fetch and parse the same feeds with bare urllib3 + feedparser, sequentially.

    Returns the figures as text and the CPU per poll in ms. The bare side fetches no
    robots.txt and writes no state; it runs in the same process and run as the poller.
    """
    import feedparser
    import urllib3

    pool = urllib3.PoolManager()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for n in range(offset, offset + feeds):
        body = pool.request("GET", f"http://127.0.0.1:{port}/feed/{n}").data
        feedparser.parse(body)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    cpu_ms = cpu / feeds * 1000
    text = (
        f"{feeds / wall:.1f} polls/s, {cpu_ms:.2f} ms CPU/poll "
        "(urllib3 + feedparser, 1 thread, no state)"
    )
    return text, cpu_ms


if __name__ == "__main__":
    main()
