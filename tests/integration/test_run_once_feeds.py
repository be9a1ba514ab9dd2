"""`run --once` and `feeds` through the real CLI: a local feed server, the real broker."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.test_daemon_kafka import read_topic
from tests.integration.test_kafka_replay import cli

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.kafka

STORIES = [
    (
        "North Korean troops seen near Kursk, Umerov tells KBS",
        "&lt;p&gt;North Korean troops were seen near the front in Kursk, Ukrainian officials"
        " said on Tuesday. Defense Minister Rustem Umerov told KBS that 11,000 soldiers had"
        " arrived and that more were expected within weeks.&lt;/p&gt;",
    ),
    (
        "Seoul summons Russian ambassador over DPRK soldiers in the war",
        "South Korea summoned the Russian ambassador on Friday and demanded the immediate"
        " withdrawal of North Korean soldiers sent to fight against Ukraine, the foreign"
        " ministry in Seoul said, warning of arms deliveries to Kyiv.",
    ),
    (
        "Pyongyang ships artillery shells to Russia, intelligence says",
        "North Korea has shipped about 8,000 containers of artillery shells and rockets to"
        " Russia for its war against Ukraine since August, Ukrainian military intelligence"
        " said on Monday, citing satellite images of the port of Rajin.",
    ),
]


def feed_xml(n: int) -> bytes:
    items = "".join(
        f"<item><title>{title}</title>"
        f"<link>http://127.0.0.1/news/{i}</link><guid>guid-{i}</guid>"
        f"<description>{body}</description>"
        "<pubDate>Tue, 05 Nov 2024 10:00:00 GMT</pubDate></item>"
        for i, (title, body) in enumerate(STORIES[:n])
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Local test feed</title><link>http://127.0.0.1/</link>{items}</channel></rss>"
    ).encode()


class FeedServer(ThreadingHTTPServer):
    """Serves one RSS feed with an ETag and records the conditional headers it gets."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.body = feed_xml(3)
        self.requests: list[dict[str, str]] = []


class Handler(BaseHTTPRequestHandler):
    server: FeedServer

    def do_GET(self) -> None:
        self.server.requests.append(dict(self.headers))
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_run_once_publishes_feed_items_then_polls_conditionally(
    tmp_path: Path, kafka_bootstrap: str, feed_server: FeedServer
) -> None:
    topic = f"test.feeds.{uuid.uuid4().hex[:8]}"
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"""
kafka: {{topic: {topic}, partitions: 1}}
state: {{path: {tmp_path / "state.db"}}}
http: {{allow_private: ["127.0.0.1"], per_host_delay_s: 0}}
sources:
  - name: local-feed
    url: http://127.0.0.1:{feed_server.server_port}/feed.xml
    interval_s: 60
""",
        encoding="utf-8",
    )
    first = cli("run", "--once", "--config", str(cfg), bootstrap=kafka_bootstrap)
    assert first.returncode == 0, first.stderr
    assert "3 items" in first.stderr
    values = [v for v, _ in read_topic(kafka_bootstrap, topic)]
    assert len(values) == 3
    assert {v["article"]["title"] for v in values} == {title for title, _ in STORIES}

    second = cli("run", "--once", "--config", str(cfg), bootstrap=kafka_bootstrap)
    assert second.returncode == 0, second.stderr
    assert "0 items" in second.stderr
    assert feed_server.requests[-1].get("If-None-Match") == '"v1"'
    assert len(read_topic(kafka_bootstrap, topic)) == 3

    table = cli("feeds", "--config", str(cfg), bootstrap=kafka_bootstrap)
    assert table.returncode == 0, table.stderr
    assert "local-feed" in table.stdout
