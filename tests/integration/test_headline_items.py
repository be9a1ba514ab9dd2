"""Headline items through the real CLI: a local feed server and the real broker (`run --once`),
and a `.jsonl` replay into a JSON-lines sink."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from tests.integration.harness import cli, read_topic, serving

pytestmark = pytest.mark.kafka

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title><id>urn:desk</id>
<entry><id>urn:1</id><link href="{base}/a/1"/><updated>2024-11-05T10:00:00Z</updated>
  <title>Comet fragments found in Antarctic ice core</title></entry>
<entry><id>urn:2</id><link href="{base}/a/2"/><updated>2024-11-05T10:05:00Z</updated>
  <title>Bitcoin tops &amp;#x0024;100,000</title>
  <content>&lt;!-- SC_OFF --&gt;&lt;div class="md"&gt;&lt;p&gt;Traders cheered.&lt;/p&gt;
  &lt;/div&gt;</content>
</entry>
<entry><id>urn:3</id><link href="{base}/a/3"/><updated>2024-11-05T10:10:00Z</updated>
  <title type="html">E = mc&lt;sup&gt;2&lt;/sup&gt; tested again</title>
  <summary>Physicists repeat the test.</summary></entry>
</feed>
"""
SHORT_PAGE = b"<html><body><nav>Home</nav><p>Subscribe to read.</p></body></html>"
EXPECTED = {
    "Comet fragments found in Antarctic ice core": "",
    "Bitcoin tops $100,000": "Traders cheered.",
    "E = mc2 tested again": "Physicists repeat the test.",
}


class DeskServer(ThreadingHTTPServer):
    """Serves the feed, and for every article a page with too little text to extract."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(BaseHTTPRequestHandler):
    server: DeskServer

    def do_GET(self) -> None:
        if self.path == "/feed.xml":
            base = f"http://127.0.0.1:{self.server.server_port}"
            body, ctype = ATOM.format(base=base).encode(), "application/atom+xml"
        elif self.path.startswith("/a/"):
            body, ctype = SHORT_PAGE, "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def desk() -> Iterator[DeskServer]:
    with serving(DeskServer()) as server:
        yield server


def test_headline_and_short_summary_entries_reach_the_topic_as_plain_text(
    tmp_path: Path, kafka_bootstrap: str, desk: DeskServer
) -> None:
    topic = f"test.headlines.{uuid.uuid4().hex[:8]}"
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"""
kafka: {{topic: {topic}, partitions: 1}}
state: {{path: {tmp_path / "state.db"}}}
http: {{allow_private: ["127.0.0.1"], per_host_delay_s: 0}}
filters: {{enabled: false}}
sources:
  - name: desk
    url: http://127.0.0.1:{desk.server_port}/feed.xml
    interval_s: 60
    fetch_pages: true
""",
        encoding="utf-8",
    )
    res = cli("run", "--once", "--config", str(cfg), bootstrap=kafka_bootstrap)
    assert res.returncode == 0, res.stderr
    values = [v for v, _ in read_topic(kafka_bootstrap, topic)]
    articles = {v["article"]["title"]: v["article"]["text"] for v in values}  # type: ignore[index]
    # Every page was too short: each entry was published with its own title and text.
    assert articles == EXPECTED


def test_replayed_jsonl_headlines_are_published_and_untitled_short_text_rejected(
    tmp_path: Path,
) -> None:
    items = tmp_path / "items.jsonl"
    lines = [
        {"id": "h1", "url": "https://x.test/1", "title": "Comet fragments found in ice core"},
        {"id": "h2", "url": "https://x.test/2", "title": "Price tops &amp;#x0024;5", "text": "Up."},
        {"id": "h3", "url": "https://x.test/3", "text": "No title, and too short."},
        {"id": "h4", "url": "https://x.test/4", "title": "  "},
    ]
    items.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    sink, explain = tmp_path / "out.jsonl", tmp_path / "explain.jsonl"
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(f"state: {{path: {tmp_path / 'state.db'}}}\n", encoding="utf-8")
    res = cli(
        "replay",
        str(items),
        "--config",
        str(cfg),
        "--sink",
        f"jsonl:{sink}",
        "--no-filter",
        "--explain",
        str(explain),
        bootstrap="127.0.0.1:9",
    )
    assert res.returncode == 1, res.stderr  # the untitled short text is rejected
    published = [orjson.loads(line)["article"] for line in sink.read_bytes().splitlines()]
    assert [(a["title"], a["text"]) for a in published] == [
        ("Comet fragments found in ice core", ""),
        ("Price tops $5", "Up."),
    ]
    decisions = {d["input_id"]: d for d in map(orjson.loads, explain.read_bytes().splitlines())}
    assert [decisions[i]["decision"] for i in ("h1", "h2", "h3", "h4")] == [
        "published",
        "published",
        "rejected",
        "rejected",
    ]
    assert "< min_chars 150" in decisions["h3"]["reason"]
    assert decisions["h4"]["reason"] == "line 4: none of 'title', 'text' or 'html' has content"
