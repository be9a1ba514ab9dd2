"""Poll N locally served feeds with the real FeedPoller; print polls/s, CPU per poll, memory.

The feed server runs in a separate process (scripts/_bench_server.py), so only the
poller's CPU is counted. Three rounds over the same feeds:
  cold    first poll: every feed is new, 10 entries each are parsed and handed on;
  steady  --changed-pct of the feeds have one new entry; the rest answer 304
          (ETag) or, for the 20% without validators, resend an unchanged body;
  idle    nothing changed.
Target: one worker keeps up with 50,000 feeds every 15 minutes (55.6 polls/s).
Run: python scripts/bench_feeds.py [--feeds 5000] [--pool 16] [--changed-pct 5]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_server import start_server

from connectors.poller import FeedPoller
from monitor.config import HttpSettings, Settings, SourceSettings
from monitor.model import RawItem, utcnow
from monitor.scheduler import SourceScheduler

TARGET = 50_000 / (15 * 60)


def rss_mib() -> float:
    """Current resident memory of this process, MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def run_round(label: str, poller: FeedPoller, feeds: int) -> None:
    """Poll every feed once; print the figures."""
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
    args = ap.parse_args()
    proc, port = start_server()
    try:
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
                run_round("cold", poller, args.feeds)
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/bump?pct={args.changed_pct}&n={args.feeds}"
                ).read()
                run_round("steady", poller, args.feeds)
                run_round("idle", poller, args.feeds)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS {peak:.1f} MiB")
            if args.jobs:
                bench_schedule(args.jobs, port, Path(tmp))
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
