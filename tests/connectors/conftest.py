"""A real local HTTP server (stdlib, a thread, port 0) and settings that allow 127.0.0.1."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from connectors.poller import FeedPoller
from connectors.polls import PollOutcome
from monitor.config import HttpSettings, ScheduleSettings, Settings, SourceSettings
from monitor.model import RawItem, Rejected

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]


@dataclass
class FeedServer:
    """Routes (exact path -> handler) and optionally a folder served as static files."""

    routes: dict[str, Handler] = field(default_factory=dict)
    static_root: Path | None = None
    requests: list[Seen] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        """The full URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def seen(self, path: str) -> list[Seen]:
        """The requests received for `path`."""
        return [r for r in self.requests if r.path == path]


def reply(
    status: int, body: bytes = b"", ctype: str = "application/rss+xml", **headers: str
) -> Handler:
    """A handler that sends one fixed response."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        if ctype:
            h.send_header("Content-Type", ctype)
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle


def _make_handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as two writes: without NODELAY, Nagle plus the
            # client's delayed ACK adds 40 ms to every response.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            server.requests.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = server.routes.get(self.path)
            if route is not None:
                route(self)
                return
            if server.static_root is not None:
                target = (server.static_root / self.path.lstrip("/")).resolve()
                if target.is_file() and server.static_root.resolve() in target.parents:
                    data = target.read_bytes()
                    ctype = "application/json" if target.suffix == ".json" else "application/xml"
                    reply(200, data, ctype)(self)
                    return
            reply(404, b"not found", "text/plain")(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return H


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A threaded HTTP server on 127.0.0.1, a free port; stopped after the test."""
    fs = FeedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(fs))
    httpd.daemon_threads = True
    fs.port = httpd.server_address[1]
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    yield fs
    httpd.shutdown()
    httpd.server_close()


def make_settings(sources: list[SourceSettings], tmp: Path, **http: Any) -> Settings:
    """Settings for tests: 127.0.0.1 allowed, no per-host delay, short timeouts."""
    opts: dict[str, Any] = {
        "allow_private": ["127.0.0.1"],
        "per_host_delay_s": 0.0,
        "per_host_concurrency": 8,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 1.0,
        "total_timeout_s": 3.0,
        "max_bytes": 1024 * 1024,
        "pool_size": 8,
    }
    opts.update(http)
    return Settings(
        http=HttpSettings(**opts),
        schedule=ScheduleSettings(),
        sources=sources,
        state={"path": tmp / "state.db"},
        config_dir=tmp,
    )


REPO = Path(__file__).resolve().parents[2]


def corpora_dir(repo: Path = REPO) -> Path | None:
    """`$NEWS_MONITOR_CORPORA`, else `shared/corpora` beside the repo; fail under CI if missing."""
    env = os.environ.get("NEWS_MONITOR_CORPORA")
    candidate = Path(env) if env else repo.parent / "shared" / "corpora"
    if (candidate / "feeds").is_dir():
        return candidate
    if os.environ.get("CI"):
        pytest.fail(
            f"corpora not found: expected {candidate} (or set NEWS_MONITOR_CORPORA);"
            " CI must provide them"
        )
    return None


def stream(poller: FeedPoller) -> Iterator[RawItem | Rejected]:
    """Every source polled once, the items handed on as the consumer takes them."""
    for outcome in poller.poll_once():
        yield from poller.deliver(outcome)


def polls(poller: FeedPoller) -> tuple[list[RawItem | Rejected], list[PollOutcome]]:
    """Every source polled once: the items handed on, and each poll's outcome."""
    items: list[RawItem | Rejected] = []
    outcomes: list[PollOutcome] = []
    for outcome in poller.poll_once():
        outcomes.append(outcome)
        items.extend(poller.deliver(outcome))
    return items, outcomes
