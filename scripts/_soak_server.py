"""A local feed server for the daemon soak (`scripts/soak.py`), run in its own process.

Items appear over wall time at `rate` per second, from the first feed request on (the
daemon's start-up is not counted against it), up to `items` in all. Item k belongs to
feed k % feeds; `/feed/<n>` is an RSS 2.0 feed of feed n's latest `feed_size` items,
each a distinct synthetic article (`bench_news.NewsGenerator`: on topic, or 1 in N) as HTML
paragraphs in content:encoded, with a GUID, a link and a title. Publish dates advance by `step_s`
per item, in the past, so the daemon's dedup window (event time) fills after a known
number of items and then slides. Feeds send an ETag and answer 304 when unchanged.
`/stats` returns, as JSON, the items offered so far, the requests served, and what
the server can tell about the poller from the ETag it sends back: items that scrolled
off a feed between two polls (never served: `missed`) and the gaps between two polls
of one feed (the scheduler falling behind shows there first).
"""

from __future__ import annotations

import html
import json
import multiprocessing as mp
import signal
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class FeedPlan:
    """What the server offers: how many feeds and items, how fast, with which dates."""

    feeds: int
    rate: float
    items: int
    feed_size: int
    step_s: float
    seed: int = 23
    on_topic_every: int = 1
    """Only every n-th item is on topic; the others are local news the rules filter out."""


class Catalogue:
    """The items offered so far and the feed bodies built from them (pure, no sockets)."""

    def __init__(self, plan: FeedPlan) -> None:
        from bench_news import NewsGenerator  # the bench's generator: texts pass the default rules

        self.plan = plan
        self.gen = NewsGenerator(seed=plan.seed, on_topic_every=plan.on_topic_every)
        # The newest item is published about now, the first one `items` steps earlier.
        self.base = datetime.now(UTC) - timedelta(seconds=plan.step_s * plan.items)
        self.started: float | None = None
        self.requests = 0
        self.not_modified = 0
        self.missed = 0
        self._last_poll: dict[int, float] = {}
        self.max_gap_s = 0.0
        self.gaps: list[float] = []
        """Gaps between consecutive polls of one feed since the last /stats (seconds)."""
        self._lock = threading.Lock()
        # feed -> (newest item, ETag, body): only the current body of each feed is kept,
        # so the server's memory stays flat however long the soak runs.
        self._bodies: dict[int, tuple[int, str, bytes]] = {}
        self._items: dict[int, bytes] = {}

    def offered(self) -> int:
        """Items made available so far (starts counting at the first request)."""
        if self.started is None:
            return 0
        return min(self.plan.items, int((time.monotonic() - self.started) * self.plan.rate))

    def _item(self, k: int) -> bytes:
        cached = self._items.get(k)
        if cached is not None:
            return cached
        art = self.gen.article(k)
        body = "".join(f"<p>{html.escape(p)}</p>" for p in art["text"].split("\n\n"))
        published = format_datetime(self.base + timedelta(seconds=k * self.plan.step_s), True)
        xml = (
            f"<item><guid isPermaLink='false'>urn:soak:{k}</guid>"
            f"<title>{html.escape(art['title'])}</title><link>{html.escape(art['url'])}</link>"
            f"<pubDate>{published}</pubDate>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        ).encode()
        self._items[k] = xml
        return xml

    def feed(self, n: int, if_none_match: str | None) -> tuple[str, bytes]:
        """The current (ETag, body) of feed n, for a client that sent `if_none_match`."""
        with self._lock:
            self.requests += 1
            now = time.monotonic()
            if self.started is None:
                self.started = now
            if n in self._last_poll:
                gap = now - self._last_poll[n]
                self.gaps.append(gap)
                self.max_gap_s = max(self.max_gap_s, gap)
            self._last_poll[n] = now
            total, feeds, size = self.offered(), self.plan.feeds, self.plan.feed_size
            # Items of feed n: k = n, n + feeds, ... below `total`.
            newest = n + feeds * ((total - 1 - n) // feeds) if total > n else -1
            # The ETag names the newest item the client has seen (none: the first poll).
            seen = -1
            if if_none_match and if_none_match.startswith(f'"{n}-'):
                seen = int(if_none_match.strip('"').rsplit("-", 1)[1])
            oldest_served = newest - feeds * (size - 1)
            if newest >= 0 and oldest_served > seen:
                # Items of this feed after `seen` and before the oldest one in this body.
                first = seen + feeds if seen >= 0 else n
                self.missed += max(0, (oldest_served - first) // feeds)
            cached = self._bodies.get(n)
            if cached is not None and cached[0] == newest:
                return cached[1], cached[2]
            keys = [k for k in range(newest, -1, -feeds)][: self.plan.feed_size]
            items = b"".join(self._item(k) for k in keys)
            # Items that left this feed are never served again: forget them.
            for k in range(newest - feeds * self.plan.feed_size, -1, -feeds):
                if self._items.pop(k, None) is None:
                    break
            body = (
                b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
                b"xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
                + f"<title>Soak feed {n}</title><link>https://soak.example/{n}</link>".encode()
                + items
                + b"</channel></rss>"
            )
            etag = f'"{n}-{newest}"'
            self._bodies[n] = (newest, etag, body)
            return etag, body

    def stats(self) -> dict[str, Any]:
        """Items offered, requests served, items missed, poll gaps (reset on each call)."""
        with self._lock:
            gaps, self.gaps = sorted(self.gaps), []
            return {
                "offered": self.offered(),
                "requests": self.requests,
                "not_modified": self.not_modified,
                "missed": self.missed,
                "max_gap_s": round(self.max_gap_s, 1),
                "gap_p50_s": round(gaps[len(gaps) // 2], 1) if gaps else 0.0,
                "gap_max_s": round(gaps[-1], 1) if gaps else 0.0,
            }


def _serve(plan: FeedPlan, port_queue: Any) -> None:
    # The parent stops this process with terminate(); a Ctrl-C reaches the whole
    # process group, and the parent's cleanup, not a traceback here, should answer it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cat = Catalogue(plan)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as two writes: without NODELAY, Nagle plus the
            # client's delayed ACK adds 40 ms to every response.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, status: int, body: bytes, ctype: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/stats":
                self._send(200, json.dumps(cat.stats()).encode(), "application/json")
                return
            if not path.startswith("/feed/"):
                self._send(404, b"not found", "text/plain")
                return
            inm = self.headers.get("If-None-Match")
            etag, body = cat.feed(int(path.rsplit("/", 1)[1]), inm)
            if inm == etag:
                with cat._lock:
                    cat.not_modified += 1
                self._send(304, b"", "application/rss+xml; charset=utf-8", ETag=etag)
                return
            self._send(200, body, "application/rss+xml; charset=utf-8", ETag=etag)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    httpd.request_queue_size = 1024
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def start_soak_server(plan: FeedPlan) -> tuple[mp.process.BaseProcess, int]:
    """Start the server in a child process; return it and its port."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_serve, args=(plan, q), daemon=True)
    proc.start()
    return proc, int(q.get(timeout=30))
