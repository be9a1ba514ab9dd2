#!/usr/bin/env python
"""Soak the real daemon (`news-monitor run`) under a sustained feed load and watch its memory.

One command, by hand (never in tests). It starts a local Kafka broker
(`devkafka`, scripts/devkafka) and a local feed server in a child process (`_soak_server.py`:
--feeds RSS feeds on 127.0.0.1, new distinct articles at --rate items/s in all, every
one on topic or 1 in --on-topic-every (the rest filtered out by the default rules),
publish dates advancing so the 72 h dedup window is full after --window-items items
and then slides), writes a config (the default one, pointed at them), and runs
`python -m monitor run` as a subprocess: scheduler, poller, HTTP pool, bounded queue,
group commit, outbox and Kafka producer, all real. Every --sample-s seconds it reads
the daemon's RSS (and its children's: the HTML extraction process) from /proc, the
state file size and the decisions from the daemon's /metrics. It stops at --items
decided items or after --minutes, sends SIGTERM and checks the daemon exits 0 within
its stop budget, then prints a table and the RSS slope over the last half of the run.

    python scripts/soak.py [--feeds 250] [--rate 100] [--items 55000]
                           [--window-items 20000] [--sample-s 15] [--minutes 10]
                           [--on-topic-every N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from _soak_server import FeedPlan, start_soak_server
from bench_common import machine
from bench_memory import slope_per_k
from corpora import ROOT

# The daemon's own stop budget (monitor.daemon.Daemon.stop_budget_s) is 8 s; the
# interpreter's exit and Kafka's close come on top.
STOP_WAIT_S = 20.0
DECISIONS = ("published", "duplicate", "filtered", "rejected")
_METRIC = re.compile(r'^news_monitor_(\w+?)(?:\{(\w+)="([^"]*)"\})? ([0-9.eE+-]+|NaN)$')


def say(msg: str) -> None:
    """Progress on stderr; the table goes to stdout."""
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    """A port free right now on 127.0.0.1 (the daemon binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- what is measured -------------------------------------------------------------------------


@dataclass
class Sample:
    """One look at the daemon."""

    elapsed: float
    offered: int
    decisions: dict[str, int]
    in_flight: int
    outbox: int
    acked: int
    rss: float
    anon: float
    file: float
    children: float
    state: float
    cpu: float
    missed: int
    gap_p50: float
    gap_max: float

    @property
    def decided(self) -> int:
        """Items with a recorded decision."""
        return sum(self.decisions.values())


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon and RssFile of a process, MiB (empty once it is gone)."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "RssAnon:", "RssFile:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) / 1024
    return out


def children_rss(pid: int) -> float:
    """RSS of the live children of `pid` (the daemon's HTML extraction process), MiB."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                total += proc_status(int(stat.parent.name)).get("VmRSS", 0.0)
        except (OSError, IndexError, ValueError):
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape(port: int) -> dict[str, float]:
    """The daemon's /metrics as {name or name:label: value} (empty if it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _METRIC.match(line)
        if m:
            name, _label, value, number = m.groups()
            key = f"{name}:{value}" if value is not None else name
            out[key] = out.get(key, 0.0) + float(number)
    return out


def server_stats(port: int) -> dict[str, float]:
    """The feed server's counters: items offered and missed, requests, 304s, poll gaps."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as resp:
        data: dict[str, float] = json.loads(resp.read())
        return data


def take_sample(
    began: float, pid: int, metrics_port: int, feed_port: int, state_dir: Path
) -> Sample:
    """Look at the daemon, its metrics, its state files and the feed server once."""
    m = scrape(metrics_port)
    status = proc_status(pid)
    feed = server_stats(feed_port)
    return Sample(
        elapsed=time.monotonic() - began,
        offered=int(feed["offered"]),
        decisions={d: int(m.get(f"items_total:{d}", 0)) for d in DECISIONS},
        in_flight=int(m.get("items_in_flight", 0)),
        outbox=int(m.get("outbox_depth", 0)),
        acked=int(sum(v for k, v in m.items() if k.startswith("messages_published_total"))),
        rss=status.get("VmRSS", 0.0),
        anon=status.get("RssAnon", 0.0),
        file=status.get("RssFile", 0.0),
        children=children_rss(pid),
        state=sum(p.stat().st_size for p in state_dir.glob("state.db*")) / 2**20,
        cpu=cpu_seconds(pid),
        missed=int(feed["missed"]),
        gap_p50=float(feed["gap_p50_s"]),
        gap_max=float(feed["gap_max_s"]),
    )


# --- the parts started for the run -------------------------------------------------------------


def write_config(
    tmp: Path, bootstrap: str, feed_port: int, metrics_port: int, feeds: int, interval_s: float
) -> Path:
    """The default config with the soak's broker, feeds, state file and a quiet log."""
    base = ROOT / "config"
    cfg: dict[str, Any] = yaml.safe_load((base / "monitor.yaml").read_text(encoding="utf-8"))
    # Data files resolve against the config's folder: point them back at the repo's.
    cfg["filters"]["gazetteer"] = str(base / cfg["filters"]["gazetteer"])
    cfg["clean"]["phrases"] = str(base / cfg["clean"]["phrases"])
    cfg["kafka"].update(bootstrap_servers=bootstrap, topic="soak.stories", partitions=1)
    cfg["kafka"]["deadletter_topic"] = "soak.deadletter"
    cfg["state"] = {"path": str(tmp / "state" / "state.db")}
    # WARNING: one INFO line per item would make the log, not the daemon, the workload.
    cfg["logging"] = {"level": "WARNING", "format": "json"}
    cfg["observe"] = {"enabled": True, "host": "127.0.0.1", "port": metrics_port}
    # Every feed is on one host: no politeness delay, enough connections for all.
    cfg["http"].update(
        allow_private=["127.0.0.1"], per_host_delay_s=0, per_host_concurrency=16, pool_size=32
    )
    cfg["sources"] = [
        {"name": f"soak-{n:04d}", "url": f"http://127.0.0.1:{feed_port}/feed/{n}",
         "kind": "rss", "interval_s": interval_s}
        for n in range(feeds)
    ]  # fmt: skip
    path = tmp / "soak.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    (tmp / "state").mkdir()
    return path


@contextlib.contextmanager
def broker(tmp: Path) -> Iterator[str]:
    """A local Kafka broker for the run; stopped on exit."""
    from devkafka import start_broker

    t = time.perf_counter()
    b = start_broker(tmp / "kafka")
    say(f"kafka: broker at {b.bootstrap} ready in {time.perf_counter() - t:.1f} s")
    try:
        yield b.bootstrap
    finally:
        b.stop()


@contextlib.contextmanager
def daemon(cfg: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m monitor run --config cfg` from the repo root, its log to a file."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(cfg)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:  # an error or Ctrl-C before the orderly stop
                proc.kill()
                proc.wait()


def stop(proc: subprocess.Popen[bytes]) -> tuple[int | None, float]:
    """SIGTERM the daemon; return its exit code (None: it did not stop) and the seconds taken."""
    t = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code: int | None = proc.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        code = None
    return code, time.monotonic() - t


# --- the run ----------------------------------------------------------------------------------


def line(s: Sample, prev: Sample | None) -> str:
    """One progress/table row."""
    dt = s.elapsed - prev.elapsed if prev else s.elapsed
    rate = (s.decided - (prev.decided if prev else 0)) / dt if dt > 0 else 0.0
    offered = (s.offered - (prev.offered if prev else 0)) / dt if dt > 0 else 0.0
    return (
        f"| {s.decided:>9,} | {s.elapsed:>7.0f} | {offered:>7.1f} | {rate:>7.1f} "
        f"| {s.offered - s.decided:>7,} | {s.in_flight:>5,} | {s.rss:>6.0f} | {s.anon:>6.0f} "
        f"| {s.file:>5.0f} | {s.children:>5.0f} | {s.state:>6.1f} | {s.missed:>6,} "
        f"| {s.gap_p50:>4.1f} / {s.gap_max:>4.1f} |"
    )


HEAD = (
    "|     items | elapsed | offer/s | items/s | backlog | queue | RSS MiB | heap | mapped "
    "| child | state MiB | missed | poll gap s p50/max |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def soak(args: argparse.Namespace, tmp: Path) -> int:
    """Run the soak; print the table; return the exit code."""
    from monitor.config import load_settings

    window_h = load_settings(ROOT / "config" / "monitor.yaml").dedup.window_hours
    plan = FeedPlan(
        feeds=args.feeds,
        rate=args.rate,
        items=args.items,
        feed_size=args.feed_size,
        step_s=window_h * 3600 / args.window_items,
        on_topic_every=args.on_topic_every,
    )
    per_poll = args.rate / args.feeds * args.interval_s * 1.1  # 10% jitter on the interval
    if per_poll > args.feed_size * 0.7:
        say(
            f"soak: WARNING ~{per_poll:.1f} new items per feed per poll, feeds hold "
            f"{args.feed_size}: items may scroll off unseen; use more --feeds"
        )
    header = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}"
    say(f"soak: {header}")
    server, feed_port = start_soak_server(plan)
    try:
        with broker(tmp) as bootstrap:
            metrics_port = free_port()
            cfg = write_config(tmp, bootstrap, feed_port, metrics_port, args.feeds, args.interval_s)
            log = tmp / "daemon.log"
            with daemon(cfg, log) as proc:
                return watch(args, plan, proc, metrics_port, feed_port, tmp, log, header)
    finally:
        server.terminate()
        server.join(5)


def watch(
    args: argparse.Namespace,
    plan: FeedPlan,
    proc: subprocess.Popen[bytes],
    metrics_port: int,
    feed_port: int,
    tmp: Path,
    log: Path,
    header: str,
) -> int:
    """Sample the running daemon until done; stop it; print the report."""
    began = time.monotonic()
    cap = args.minutes * 60
    samples: list[Sample] = []
    say(HEAD)
    next_at = began + args.sample_s
    reason = ""
    while not reason:
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += args.sample_s
        if proc.poll() is not None:
            say(log.read_text(errors="replace")[-3000:])
            say(f"soak: the daemon exited early with code {proc.returncode}")
            return 1
        s = take_sample(began, proc.pid, metrics_port, feed_port, tmp / "state")
        say(line(s, samples[-1] if samples else None))
        samples.append(s)
        if s.decided >= plan.items:
            reason = f"{plan.items:,} items decided"
        elif s.elapsed >= cap:
            reason = f"the {args.minutes:g} min cap"
        elif s.offered >= plan.items:
            # Everything is offered; the last entries need one more poll of their feed.
            # Nothing new for three poll intervals: what is left was missed.
            since = [p for p in samples if p.decided == s.decided]
            if s.in_flight == 0 and s.elapsed - since[0].elapsed >= args.interval_s * 3:
                reason = "no new decisions for three poll intervals after the last offer"
    final = take_sample(began, proc.pid, metrics_port, feed_port, tmp / "state")
    code, took = stop(proc)
    report(args, plan, samples, final, code, took, reason, header, log)
    ok = code == 0 and final.decided >= 0.99 * final.offered
    return 0 if ok else 1


def report(
    args: argparse.Namespace,
    plan: FeedPlan,
    samples: list[Sample],
    final: Sample,
    code: int | None,
    took: float,
    reason: str,
    header: str,
    log: Path,
) -> None:
    """Print the table, the slope, the decisions and whether the daemon kept up and stopped."""
    print(
        f"news-monitor daemon soak, {header}; {plan.feeds} feeds, {plan.rate:g} items/s "
        f"offered, dedup window full after {args.window_items:,} items; stopped at {reason}\n"
    )
    print(HEAD)
    prev = None
    for s in samples:
        print(line(s, prev))
        prev = s
    print()
    # Flat is judged as in bench.py's memory row: the last half of the run by items.
    last = [s for s in samples if s.decided >= final.decided / 2]
    full = [s for s in samples if s.decided >= args.window_items]
    slope = slope_per_k([(s.decided, s.rss) for s in last])
    heap = slope_per_k([(s.decided, s.anon) for s in last])
    child = slope_per_k([(s.decided, s.children) for s in last])
    print(
        f"- RSS slope over the last half ({len(last)} samples): {slope:+.3f} MiB per 1,000 "
        f"items (heap {heap:+.3f}, HTML child {child:+.3f}); flat means <= +0.1."
    )
    if len(full) > 1:
        grown = full[-1].rss - full[0].rss
        print(
            f"- Since the dedup window was full ({full[0].decided:,} items): RSS "
            f"{full[0].rss:.0f} -> {full[-1].rss:.0f} MiB ({grown:+.0f}) over "
            f"{full[-1].decided - full[0].decided:,} items."
        )
    else:
        print(f"- The dedup window ({args.window_items:,} items) did not fill in this run.")
    peak = max(s.rss for s in samples)
    print(f"- Peak RSS {peak:.0f} MiB (+ HTML child {max(s.children for s in samples):.0f}).")
    # Kept up is judged while the server was still offering new items, after the first
    # polls (the first minute, or a quarter of a short run): the drain at the end and
    # the start-up would both distort the rate.
    steady = [
        s for s in samples if min(60.0, final.elapsed / 4) <= s.elapsed and s.offered < plan.items
    ]
    if len(steady) > 1:
        a, b = steady[0], steady[-1]
        dt = b.elapsed - a.elapsed
        rate, offered = (b.decided - a.decided) / dt, (b.offered - a.offered) / dt
        cpu = (b.cpu - a.cpu) / dt * 100
        # An item waits for the next poll of its feed: a backlog up to about rate x
        # interval is poll latency, not the daemon falling behind; the queue is.
        latency = plan.rate * args.interval_s * 1.1
        backlog = max(s.offered - s.decided for s in steady)
        queue = max(s.in_flight for s in steady)
        kept = rate >= 0.95 * offered and backlog <= 1.5 * latency and queue < 900
        print(
            f"- Kept up: {'yes' if kept else 'NO'}: {rate:.1f} items/s decided vs "
            f"{offered:.1f} offered from {a.elapsed:.0f} to {b.elapsed:.0f} s (daemon CPU "
            f"{cpu:.0f}% of one core); max backlog {backlog:,} items (one poll interval is "
            f"~{latency:,.0f}), max queue {queue:,} (of 1,000), max outbox "
            f"{max(s.outbox for s in steady):,}."
        )
    else:
        print("- Kept up: too short to tell (no samples while items were being offered).")
    decided = final.decided
    by = ", ".join(
        f"{d} {n:,} ({n / decided:.1%})" if decided else f"{d} {n}"
        for d, n in final.decisions.items()
    )
    print(f"- Decisions: {by}; {final.acked:,} messages acknowledged by Kafka.")
    missed = final.offered - decided
    print(
        f"- Offered {final.offered:,}, decided {decided:,} (not decided: {missed:,}; scrolled "
        f"off a feed between two polls, by the ETags sent back: {final.missed:,})."
    )
    gaps = [x.gap_max for x in samples]
    print(
        f"- Poll gaps of one feed (interval {args.interval_s:g} s + up to 10% jitter): "
        f"median {statistics.median(x.gap_p50 for x in samples):.1f} s, max {max(gaps):.1f} s."
    )
    verdict = "exit 0" if code == 0 else ("did NOT stop" if code is None else f"exit {code}")
    print(f"- SIGTERM: {verdict} after {took:.1f} s (stop budget 8 s + close).")
    warnings = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    # APScheduler skips a poll whose previous run has not finished (max_instances=1),
    # e.g. while every pool thread is busy: each skip doubles that feed's poll gap.
    skips = 0
    for ln in warnings:
        if "maximum number of running instances" in ln:
            with contextlib.suppress(ValueError, AttributeError):
                skips += int(json.loads(ln).get("repeated", 1))
    if skips:
        print(f"- Polls skipped by APScheduler (previous run of the feed still going): {skips:,}.")
    if warnings:
        print(f"- Daemon log: {len(warnings)} lines (WARNING and up); last: {warnings[-1][:300]}")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the soak, clean up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=250, help="RSS feeds served (default 250)")
    ap.add_argument("--rate", type=float, default=100.0, help="items/s offered (default 100)")
    ap.add_argument("--items", type=int, default=55_000, help="stop after (default 55,000)")
    ap.add_argument(
        "--window-items", type=int, default=20_000,
        help="items per 72 h dedup window: publish dates advance 72 h / this per item",
    )  # fmt: skip
    ap.add_argument("--sample-s", type=float, default=15.0, help="seconds between samples")
    ap.add_argument("--minutes", type=float, default=10.0, help="stop after (default 10)")
    ap.add_argument("--feed-size", type=int, default=10, help="entries per feed (default 10)")
    ap.add_argument("--interval-s", type=float, default=10.0, help="poll interval (>= 10)")
    ap.add_argument(
        "--on-topic-every", type=int, default=1, metavar="N",
        help="only every N-th item on topic, the rest filtered out (default 1: all on topic)",
    )  # fmt: skip
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (config, log, state)")
    args = ap.parse_args(argv)
    if args.interval_s < 10:
        ap.error("--interval-s must be >= 10 (the config enforces it)")
    tmp = Path(tempfile.mkdtemp(prefix="news-monitor-soak-"))
    # SIGTERM to the soak unwinds like Ctrl-C, so the broker, server and daemon are stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return soak(args, tmp)
    except KeyboardInterrupt:
        say("soak: interrupted; cleaning up")
        return 130
    finally:
        if args.keep:
            say(f"soak: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
