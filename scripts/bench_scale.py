"""The scale rows: the daemon's path with 1 and with 2 worker processes, in the same run.

Two workloads, each run once with `worker.processes: 1` and once with 2, on a fresh
state, through what `news-monitor run` runs: `build_worker` (pool, poller with pooled
parsing, pipeline), the `Daemon` (inbox, queue, batches started ahead in the workers),
a dry-run sink (no broker: its CPU would share the 2 cores). Default config (filters
on: 1 story in 10 on topic).

  feeds  every feed changed: --feeds feeds served by a local server in its own process
         (its CPU is not counted, but it shares the cores: printed as "left out"; its
         bodies are made before it serves, ~0.1 ms CPU per request), polled once (10 new
         entries each, discarded), then every feed gets 10 new entries and is polled
         again: that round is measured. Both runs do the same work on a fresh state.
  html   --pages article pages (trafilatura development set in the corpora, else
         generated pages) submitted to the daemon as items with HTML: extraction,
         cleaning, filters, dedup, sink.

Printed: items/s with 1 and with 2 processes and their ratio (target >= 1.7x), and CPU
per item of the whole process tree (daemon, workers, extraction processes).

    python scripts/bench.py --only scale [--feeds N] [--pages N]
    python scripts/bench_scale.py [--feeds 400] [--pages 150] [--corpora PATH]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import Report, proc_cpu, say
from bench_news import NewsGenerator, generated_pages

from monitor.config import Settings, SourceSettings, load_settings
from monitor.daemon import Daemon, Submit
from monitor.inbox import Inbox
from monitor.logging import configure_logging
from monitor.model import RawItem
from monitor.publish import Publisher
from monitor.publish.sinks import open_stream_sink
from monitor.wiring import Stages, Worker, build_worker

TARGET = 1.7
ENTRIES = 10


# --- the feed server (own process) ----------------------------------------------------------


def _serve(port_queue: Any, feeds: int) -> None:
    gen = NewsGenerator(seed=3, on_topic_every=10)
    version = [0]
    cache: dict[tuple[int, int], bytes] = {}

    def body(n: int, v: int) -> bytes:
        if (n, v) not in cache:
            items = []
            for k in range(ENTRIES):
                a = gen.article((v * feeds + n) * ENTRIES + k)
                summary = a["text"].split("\n\n")[0][:600]
                items.append(
                    f"<item><guid>{a['id']}</guid><title>{_esc(a['title'])}</title>"
                    f"<link>{a['url']}</link><description>{_esc(summary)}</description>"
                    f"<pubDate>Mon, 01 Jan 2024 {k:02d}:{v % 60:02d}:00 GMT</pubDate></item>"
                )
            cache[(n, v)] = (
                "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                f"<title>Feed {n}</title><link>https://news.example/{n}</link>"
                f"{''.join(items)}</channel></rss>"
            ).encode()
        return cache[(n, v)]

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path.startswith("/bump"):
                version[0] += 1
                data = b"ok"
            else:
                data = body(int(self.path.rsplit("/", 1)[1]), version[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    # Both rounds' bodies made before serving: the server must not be what is measured.
    for v in (0, 1):
        for n in range(feeds):
            body(n, v)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    httpd.request_queue_size = 1024
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


# --- measuring ------------------------------------------------------------------------------


def tree_cpu(exclude: set[int]) -> float:
    """CPU seconds so far of this process and its live descendants (minus `exclude`)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    total, todo = own_cpu(), list(parents.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        try:
            total += proc_cpu(pid)  # clock ticks: 10 ms steps
        except OSError:
            continue
        todo.extend(parents.get(pid, []))
    return total


def outside_cpu(pids: set[int]) -> float:
    """CPU seconds so far of the processes `tree_cpu` leaves out (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            total += proc_cpu(pid)
        except OSError:
            continue
    return total


def own_cpu() -> float:
    """CPU seconds of this process so far, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Run:
    """One measured pass."""

    items: int
    seconds: float
    cpu_s: float
    main_cpu_s: float
    """Of `cpu_s`, the daemon's own process (all its threads)."""
    outside_cpu_s: float = 0.0
    """CPU of the processes left out of `cpu_s` (the feed server), same interval."""

    def __str__(self) -> str:
        outside = f"; left out: {self.outside_cpu_s:.2f} CPU-s" if self.outside_cpu_s else ""
        return (
            f"{self.items} items in {self.seconds:.2f} s: {self.rate:.1f} items/s,"
            f" {self.cpu_ms:.2f} ms CPU/item ({self.main_ms:.2f} in the daemon's process)"
            f"{outside}"
        )

    @property
    def rate(self) -> float:
        """Items per second."""
        return self.items / self.seconds

    @property
    def cpu_ms(self) -> float:
        """CPU per item, ms (the whole process tree)."""
        return self.cpu_s / self.items * 1000

    @property
    def main_ms(self) -> float:
        """CPU per item in the daemon's own process, ms."""
        return self.main_cpu_s / self.items * 1000

    @property
    def worker_ms(self) -> float:
        """CPU per item outside the daemon's process (workers, extraction), ms."""
        return self.cpu_ms - self.main_ms

    def ceiling(self, cores: int) -> float:
        """Items/s on `cores` idle cores from the CPU split: the daemon's process is one
        process (at most one core), the whole tree shares the cores."""
        return 1000 / max(self.main_ms, self.cpu_ms / cores, 1e-6)


class Phases:
    """The daemon's `Source`: runs each phase's `produce(submit)` in turn from a thread,
    waits until the daemon has decided everything, and measures the last phase."""

    def __init__(self, daemon: Daemon, phases: list[Callable[[Submit], int]], exclude: set[int]):
        self.daemon, self.phases, self.exclude = daemon, phases, exclude
        self.measured: Run | None = None

    def start(self, submit: Submit) -> None:
        threading.Thread(target=self._run, args=(submit,), daemon=True).start()

    def _run(self, submit: Submit) -> None:
        try:
            total = 0
            for n, produce in enumerate(self.phases):
                last = n == len(self.phases) - 1
                cpu, start = (tree_cpu(self.exclude), time.perf_counter()) if last else (0.0, 0.0)
                main, outside = own_cpu(), outside_cpu(self.exclude)
                made = produce(submit)
                total += made
                while self.daemon.processed < total:
                    time.sleep(0.005)
                if last:
                    seconds = time.perf_counter() - start
                    tree = tree_cpu(self.exclude) - cpu
                    left_out = outside_cpu(self.exclude) - outside
                    self.measured = Run(made, seconds, tree, own_cpu() - main, left_out)
        finally:
            self.daemon.stop()

    def shutdown(self) -> None:
        pass


def run_daemon(worker: Worker, phases: list[Callable[[Submit], int]], exclude: set[int]) -> Run:
    """Run the daemon through the phases; the last one is measured."""
    inbox = Inbox(worker.settings.state_path)
    daemon = Daemon(worker.pipeline, worker.publisher, inbox)
    source = Phases(daemon, phases, exclude)
    daemon.run([source], install_signals=False)
    if source.measured is None:
        raise RuntimeError("the measured phase did not finish")
    return source.measured


def settings_for(base: Settings, tmp: Path, processes: int, **extra: Any) -> Settings:
    """The config with a fresh state, `processes` workers and `extra` top-level sections."""
    state = base.state.model_copy(update={"path": tmp / f"state-{processes}.db"})
    worker = base.worker.model_copy(update={"processes": processes})
    observe = base.observe.model_copy(update={"enabled": False})
    return base.model_copy(update={"state": state, "worker": worker, "observe": observe, **extra})


def dry_publisher(_settings: Settings, _stages: Stages, _metrics: object) -> Publisher:
    sink = open_stream_sink("jsonl", os.devnull)
    return Publisher(lambda: sink)


@dataclass
class Built:
    worker: Worker

    def __enter__(self) -> Worker:
        return self.worker

    def __exit__(self, *exc: object) -> None:
        self.worker.close()


def built(settings: Settings, feeds: bool) -> Built:
    return Built(build_worker(settings, dry_publisher, feeds=feeds))


# --- the two workloads ----------------------------------------------------------------------


def feed_round(worker: Worker) -> Callable[[Submit], int]:
    """Poll every feed once as the scheduler's jobs do: `http.pool_size` threads, each
    polling a feed and handing its new entries to the daemon (`SourceScheduler._run`)."""

    def produce(submit: Submit) -> int:
        poller = worker.poller
        assert poller is not None

        def job(name: str) -> int:
            outcome = poller.poll(name)
            n = 0
            for item in poller.deliver(outcome):
                submit(item)
                n += 1
            return n

        threads = worker.settings.http.pool_size
        with ThreadPoolExecutor(threads, thread_name_prefix="feed") as pool:
            return sum(pool.map(job, list(poller.sources)))

    return produce


def bench_feeds_scaled(base: Settings, tmp: Path, feeds: int, processes: int) -> Run:
    """The measured round (every feed changed) with `processes` workers; server of its own."""
    ctx = get_context("fork")
    q = ctx.Queue()
    server = ctx.Process(target=_serve, args=(q, feeds), daemon=True)
    server.start()
    port = int(q.get(timeout=300))
    try:
        sources = [
            SourceSettings(name=f"feed{n}", url=f"http://127.0.0.1:{port}/feed/{n}")
            for n in range(feeds)
        ]
        http = base.http.model_copy(
            # One local host stands for many: the politeness limits per host are off.
            update={
                "allow_private": ["127.0.0.1"],
                "per_host_delay_s": 0.0,
                "per_host_concurrency": 16,
                "pool_size": 16,
            }
        )
        settings = settings_for(base, tmp, processes, sources=sources, http=http)
        with built(settings, feeds=True) as worker:
            assert server.pid is not None
            first = feed_round(worker)  # every feed new: not measured

            def changed(submit: Submit) -> int:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/bump").read()
                return feed_round(worker)(submit)

            return run_daemon(worker, [first, changed], {server.pid})
    finally:
        server.kill()
        server.join(5)


def html_items(corpora: Path | None, count: int) -> tuple[list[RawItem], str]:
    """Pages as items with HTML: the trafilatura development set, else generated pages."""
    pages: list[tuple[str, str]] = []
    if corpora is not None:
        from bench_clean import html_pages

        pages = html_pages(corpora, count)
    origin = "trafilatura development set"
    if not pages:
        origin = "generated pages"
        pages = generated_pages(count, on_topic_every=10)
    items = [
        RawItem(input_id=f"page-{n}", source=f"site{n % 20}", html=html, url=url)
        for n, (url, html) in enumerate(pages)
    ]
    return items, origin


def bench_html_scaled(base: Settings, tmp: Path, items: list[RawItem], processes: int) -> Run:
    """The pages through the daemon with `processes` workers (after two warm-up pages)."""
    settings = settings_for(base, tmp, processes)

    def submit_all(batch: list[RawItem]) -> Callable[[Submit], int]:
        def produce(submit: Submit) -> int:
            for item in batch:
                submit(item)
            return len(batch)

        return produce

    with built(settings, feeds=False) as worker:
        warm = [RawItem(input_id=f"warm-{i.input_id}", source="w", html=i.html) for i in items[:4]]
        # Warm-up: the extraction processes start on the first pages.
        return run_daemon(worker, [submit_all(warm), submit_all(items)], set())


# --- rows -----------------------------------------------------------------------------------


def rows(report: Report, what: str, one: Run, two: Run) -> None:
    """The rate row (2 processes beside 1) and the CPU row."""
    ratio = two.rate / one.rate
    report.add(
        f"{what}: items/s with 2 worker processes (beside 1, same run)",
        f"{two.rate:.1f} items/s ({two.items} items)",
        f"{one.rate:.1f} items/s (1 process)",
        f"{ratio:.2f}x",
        f">= {TARGET}x",
        "yes" if ratio >= TARGET else "NO",
    )
    report.add(
        f"{what}: CPU per item, whole process tree (2 processes beside 1)",
        f"{two.cpu_ms:.2f} ms (daemon process {two.main_ms:.2f}, workers {two.worker_ms:.2f})",
        f"{one.cpu_ms:.2f} ms (1 process)",
        f"{two.cpu_ms / one.cpu_ms:.2f}x" if one.cpu_ms > 0 else "",
        "",
        "",
    )
    # What the same CPU split gives on 2 idle cores: the wall rates above share the
    # machine with whatever else runs.
    estimate = two.ceiling(2) / one.ceiling(1)
    report.add(
        f"{what}: items/s on 2 idle cores, from the CPU split (2 processes beside 1)",
        f"{two.ceiling(2):.1f} items/s",
        f"{one.ceiling(1):.1f} items/s (1 process)",
        f"{estimate:.2f}x",
        f">= {TARGET}x",
        "yes" if estimate >= TARGET else "NO",
    )


def bench_scale(report: Report, corpora: Path | None, feeds: int, pages: int) -> None:
    """The feed and HTML workloads with 1 and with 2 worker processes."""
    base = load_settings()
    # A log line per item (and the overflow warning of every feed) would be the bench's
    # biggest cost, in the workers too.
    quiet = base.logging.model_copy(update={"level": "ERROR"})
    base = base.model_copy(update={"logging": quiet})
    configure_logging(quiet, stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="news-monitor-scale-") as name:
        tmp = Path(name)
        runs: dict[int, Run] = {}
        for processes in (1, 2):
            (tmp / f"feeds{processes}").mkdir()
            runs[processes] = bench_feeds_scaled(base, tmp / f"feeds{processes}", feeds, processes)
            say(f"scale: feeds, {processes} process(es): {runs[processes]}")
        what = f"Feed polling, every feed changed ({feeds} feeds x {ENTRIES} entries)"
        rows(report, what, runs[1], runs[2])
        items, origin = html_items(corpora, pages)
        runs = {}
        for processes in (1, 2):
            (tmp / f"html{processes}").mkdir()
            runs[processes] = bench_html_scaled(base, tmp / f"html{processes}", items, processes)
            say(f"scale: html, {processes} process(es): {runs[processes]}")
        what = f"HTML pages through the daemon ({len(items)} pages, {origin})"
        rows(report, what, runs[1], runs[2])
    report.notes.append(
        "Scale rows: wall-clock rates on a shared 2-core machine are noisy; the CPU rows"
        " are the steadier figure."
    )


def main(argv: list[str] | None = None) -> int:
    """Run both workloads and print the rows."""
    from corpora import corpora_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=400)
    ap.add_argument("--pages", type=int, default=150)
    ap.add_argument("--corpora", help="corpora folder (default: shared/corpora beside the repo)")
    args = ap.parse_args(argv)
    report = Report()
    bench_scale(report, corpora_dir(args.corpora), args.feeds, args.pages)
    print(report.render())
    for note in report.notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
