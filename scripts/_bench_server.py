"""A local feed server for the benchmarks, run in its own process so its CPU is not counted.

`/feed/<n>` is a 10-entry RSS feed. Feeds with n % 5 == 0 send no validators (the
poller must fall back to its body hash); the rest send an ETag and answer 304 to a
matching If-None-Match. `/bump?pct=P` adds one new entry to P% of the feeds.
`/small` is a fixed 1 KiB body for the raw client benchmark.
"""

from __future__ import annotations

import multiprocessing as mp
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SMALL = b"x" * 1024


def _feed(n: int, version: int) -> bytes:
    items = "".join(
        f"<item><guid isPermaLink='false'>urn:bench:{n}:{k}</guid><title>Feed {n} item {k}</title>"
        f"<link>https://news.example/{n}/{k}</link><description>Story {k} of feed {n}: "
        f"{'lorem ipsum dolor sit amet ' * 8}</description>"
        f"<pubDate>Mon, 01 Jan 2024 {k % 24:02d}:00:00 GMT</pubDate></item>"
        for k in range(version + 9, version - 1, -1)
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Bench feed {n}</title><link>https://news.example/{n}</link>{items}</channel></rss>"
    ).encode()


def _serve(port_queue: Any) -> None:
    versions: dict[int, int] = {}
    bodies: dict[tuple[int, int], bytes] = {}

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as two writes: without NODELAY, Nagle plus the
            # client's delayed ACK adds 40 ms to every response.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/small":
                self._send(200, SMALL)
                return
            if url.path == "/bump":
                pct = float(parse_qs(url.query)["pct"][0])
                total = int(parse_qs(url.query)["n"][0])
                step = max(1, round(100 / pct)) if pct else total + 1
                for n in range(0, total, step):
                    versions[n] = versions.get(n, 0) + 1
                self._send(200, b"ok")
                return
            n = int(url.path.rsplit("/", 1)[1])
            v = versions.get(n, 0)
            if n % 5 == 0:
                self._send(200, bodies.setdefault((n, v), _feed(n, v)))
                return
            etag = f'"{n}-{v}"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", ETag=etag)
                return
            self._send(200, bodies.setdefault((n, v), _feed(n, v)), ETag=etag)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    httpd.request_queue_size = 1024
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def start_server() -> tuple[mp.process.BaseProcess, int]:
    """Start the server in a child process; return it and its port."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_serve, args=(q,), daemon=True)
    proc.start()
    return proc, int(q.get(timeout=10))
