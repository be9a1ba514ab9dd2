"""The daemon with worker processes, through the installed console script and the real broker.

A local HTTP server serves feeds whose entries link to article pages (fetch_pages):
feed parsing, page extraction, cleaning and filtering run in two worker processes.
The same feeds give the same stories as with one process; a worker killed with -9
loses nothing; a daemon killed with -9 leaves no worker behind.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.harness import (
    CONSOLE_SCRIPT,
    monitor_env,
    process,
    read_topic,
    serving,
    wait_for,
)
from tests.integration.harness import log_events as events

pytestmark = pytest.mark.kafka

FEEDS, ENTRIES = 6, 5
"""Feeds 2k and 2k+1 carry the same stories (copies with their own URLs)."""
SYLLABLES = "ka lo mi ren tu sa vo ne di pa ru ko fe li ga mo ze ta bi nu".split()  # noqa: SIM905


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def story(n: int) -> tuple[str, str]:
    """Title and paragraphs of story n (its own made-up words); odd stories are about a
    harbour, the one word the filter rule asks for."""
    rng = random.Random(n)
    words = [word(rng) for _ in range(80)]
    place = "harbour" if n % 2 else words[0]
    title = f"{words[1].capitalize()} {words[2]} {place} {words[3]} {words[4]} {n}"
    body = " ".join(
        "<p>"
        + " ".join(
            " ".join(rng.choices(words, k=rng.randint(8, 14))).capitalize() + "." for _ in range(3)
        )
        + f" The {place} works numbered {n * 131 + k}.</p>"
        for k in range(6)
    )
    return title, body


def page(feed: int, entry: int) -> bytes:
    title, body = story((feed // 2) * ENTRIES + entry)
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home | World | Sport</nav>"
        f"<article><h1>{title}</h1>{body}"
        f"<p>Filed by desk {feed} as report {feed}-{entry}.</p></article>"
        f"<footer>Feed {feed} news</footer>"
        "</body></html>"
    ).encode()


def feed(port: int, n: int) -> bytes:
    items = "".join(
        f"<item><title>{story((n // 2) * ENTRIES + i)[0]}</title>"
        f"<link>http://127.0.0.1:{port}/page/{n}-{i}.html</link><guid>feed{n}-{i}</guid>"
        f"<description>Entry {i} of feed {n}</description>"
        f"<pubDate>Tue, 05 Nov 2024 10:{n:02d}:{i:02d} GMT</pubDate></item>"
        for i in range(ENTRIES)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {n}</title><link>http://127.0.0.1/</link>{items}</channel></rss>"
    ).encode()


class Server(ThreadingHTTPServer):
    """Feeds at /feed/N.xml, pages at /page/N-I.html; `delay_s` slows every page."""

    daemon_threads = True
    delay_s = 0.0

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a daemon killed mid-request resets its connections: not the test's concern


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        port = self.server.server_port
        if self.path.startswith("/feed/"):
            body, kind = feed(port, int(self.path[6:].split(".")[0])), "application/rss+xml"
        elif self.path.startswith("/page/"):
            time.sleep(self.server.delay_s)
            f, e = self.path[6:].split(".")[0].split("-")
            body, kind = page(int(f), int(e)), "text/html; charset=utf-8"
        else:
            body, kind = b"", "text/plain"
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(Server(("127.0.0.1", 0), Handler)) as srv:
        yield srv


def write_config(tmp: Path, topic: str, port: int, processes: int) -> Path:
    sources = "".join(
        f"  - {{name: feed{n}, url: 'http://127.0.0.1:{port}/feed/{n}.xml',"
        " interval_s: 10, fetch_pages: true}\n"
        for n in range(FEEDS)
    )
    cfg = tmp / "monitor.yaml"
    cfg.write_text(
        f"""
kafka: {{topic: {topic}, partitions: 1}}
state: {{path: {tmp / "state.db"}}}
observe: {{port: 0}}
worker: {{processes: {processes}}}
http: {{allow_private: ["127.0.0.1"], per_host_delay_s: 0}}
filters:
  rules:
    - name: harbour
      query: harbour
sources:
{sources}""",
        encoding="utf-8",
    )
    return cfg


@contextmanager
def daemon(cfg: Path, bootstrap: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`news-monitor run` through the installed console script (not `python -m`)."""
    env = monitor_env(bootstrap, checkout=False, NEWS_MONITOR_LOGGING__FORMAT="json")
    with process([str(CONSOLE_SCRIPT), "run", "--config", str(cfg)], log, env, cfg.parent) as proc:
        yield proc


def decided(log: Path) -> int:
    """How many distinct entries the daemon has decided."""
    return len({e["input_id"] for e in events(log, "item.decided")})


def worker_pids(log: Path) -> list[int]:
    started = events(log, "workers.started")
    assert started, "no workers.started line"
    pids = started[-1]["pids"]
    assert isinstance(pids, list)
    return [int(p) for p in pids]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stories(bootstrap: str, topic: str) -> list[dict[str, object]]:
    return [value for value, _ in read_topic(bootstrap, topic)]


HARBOUR = len([n for n in range(FEEDS // 2 * ENTRIES) if n % 2])
EXPECTED = 2 * HARBOUR
"""Messages: the harbour stories (every odd one), each created once and joined once by
its copy (a near-verbatim copy: one sentence differs)."""


def grouping(values: list[dict[str, object]]) -> set[frozenset[str]]:
    """Each story as the set of its sources' URLs (from its latest message): which copy
    arrived first (and so created the story) depends on the order the feeds were polled."""
    latest: dict[str, list[object]] = {}
    for v in values:
        sources = v["sources"]
        assert isinstance(sources, list)
        if len(sources) >= len(latest.get(str(v["story_id"]), [])):
            latest[str(v["story_id"])] = sources
    return {
        frozenset(str(s["url"]) for s in srcs if isinstance(s, dict)) for srcs in latest.values()
    }


def run_until_published(
    tmp: Path, server: Server, bootstrap: str, processes: int
) -> list[dict[str, object]]:
    topic = f"test.pool.{uuid.uuid4().hex[:8]}"
    cfg = write_config(tmp, topic, server.server_port, processes)
    log = tmp / "daemon.log"
    with daemon(cfg, bootstrap, log) as proc:
        wait_for(lambda: decided(log) == FEEDS * ENTRIES, 120, "every entry", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    if processes > 1:
        assert len(worker_pids(log)) == processes
    else:
        assert not events(log, "workers.started")
    return stories(bootstrap, topic)


def test_two_worker_processes_publish_the_same_stories_as_one(
    tmp_path: Path, server: Server, kafka_bootstrap: str
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = run_until_published(tmp_path / "one", server, kafka_bootstrap, processes=1)
    two = run_until_published(tmp_path / "two", server, kafka_bootstrap, processes=2)
    assert len(one) == len(two) == EXPECTED
    assert grouping(one) == grouping(two)
    assert all(len(urls) == 2 for urls in grouping(two))  # each story and its copy
    assert Counter(v["event"] for v in one) == Counter(v["event"] for v in two)
    created = [v for v in two if v["event"] == "story.created"]
    assert len(created) == HARBOUR
    articles = [v["article"] for v in created]
    assert all(isinstance(a, dict) and "harbour" in a["title"] for a in articles)
    # The extracted page, not the feed's one-line description, is the article.
    assert all(isinstance(a, dict) and "works numbered" in a["text"] for a in articles)


def test_a_worker_killed_mid_stream_loses_nothing(
    tmp_path: Path, server: Server, kafka_bootstrap: str
) -> None:
    server.delay_s = 0.2  # pages trickle in: the kill lands while items are in flight
    topic = f"test.pool.{uuid.uuid4().hex[:8]}"
    cfg = write_config(tmp_path, topic, server.server_port, processes=2)
    log = tmp_path / "daemon.log"
    with daemon(cfg, kafka_bootstrap, log) as proc:
        wait_for(lambda: bool(events(log, "workers.started")), 120, "the workers", proc)
        victim = worker_pids(log)[0]
        wait_for(lambda: bool(events(log, "item.decided")), 60, "the first decisions")
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(stories(kafka_bootstrap, topic)) >= EXPECTED, 120, "every story", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    assert decided(log) == FEEDS * ENTRIES
    assert not [e for e in events(log, "item.decided") if e["decision"] == "rejected"]
    assert len(stories(kafka_bootstrap, topic)) == EXPECTED


def test_a_daemon_killed_with_minus_9_leaves_no_worker_behind(
    tmp_path: Path, server: Server, kafka_bootstrap: str
) -> None:
    server.delay_s = 0.5
    topic = f"test.pool.{uuid.uuid4().hex[:8]}"
    cfg = write_config(tmp_path, topic, server.server_port, processes=2)
    log = tmp_path / "daemon.log"
    with daemon(cfg, kafka_bootstrap, log) as proc:
        wait_for(lambda: bool(events(log, "workers.started")), 120, "the workers", proc)
        wait_for(lambda: bool(events(log, "item.decided")), 60, "the first decisions")
        below = descendants(proc.pid)
        assert set(worker_pids(log)) <= below
        proc.kill()
        proc.wait(10)
    wait_for(lambda: not any(alive(p) for p in below), 15, "the workers to exit")
