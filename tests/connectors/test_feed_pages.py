"""Article pages: fetched for sources that ask, robots.txt respected, never losing the entry."""

from __future__ import annotations

from pathlib import Path

from connectors.pages import decode_html
from connectors.poller import FeedPoller
from monitor.config import SourceSettings
from monitor.model import RawItem

from .conftest import FeedServer, make_settings, reply, stream


def feed_linking(server: FeedServer, *paths: str) -> bytes:
    """An Atom feed with one entry per linked path."""
    entries = "".join(
        f"<entry><id>urn:e:{p}</id><title>{p}</title><link href='{server.url(p)}'/>"
        f"<summary>summary of {p}</summary><updated>2024-01-01T10:00:00Z</updated></entry>"
        for p in paths
    )
    return (
        f"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>F</title>"
        f"<id>urn:f</id><updated>2024-01-01T10:00:00Z</updated>{entries}</feed>"
    ).encode()


def test_pages_fetched_where_robots_allow(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/robots.txt"] = reply(
        200, b"User-agent: *\nDisallow: /private/\n", "text/plain"
    )
    feed_server.routes["/feed"] = reply(
        200,
        feed_linking(feed_server, "/news/1", "/private/2", "/news/missing", "/news/pdf"),
        "application/atom+xml",
    )
    page = "<html><head><meta charset='windows-1251'></head><body>Новости</body></html>"
    feed_server.routes["/news/1"] = reply(200, page.encode("windows-1251"), "text/html")
    feed_server.routes["/news/pdf"] = reply(200, b"%PDF-1.4", "application/pdf")
    source = SourceSettings(name="f", url=feed_server.url("/feed"), fetch_pages=True)
    with FeedPoller(make_settings([source], tmp_path), tmp_path / "s.db") as p:
        out = {i.title: i for i in stream(p) if isinstance(i, RawItem)}
    assert set(out) == {"/news/1", "/private/2", "/news/missing", "/news/pdf"}  # none lost
    ok = out["/news/1"]
    assert ok.html is not None and "Новости" in ok.html and ok.text is None
    assert ok.meta["summary"] == "summary of /news/1"
    assert ok.meta["page"]["status"] == 200
    # The entry's own content stays beside the page: clean falls back to it.
    assert (ok.meta["feed_content"], ok.meta["feed_content_type"]) == ("summary of /news/1", "text")
    assert "disallows" in out["/private/2"].meta["page_error"]
    assert "HTTP 404" in out["/news/missing"].meta["page_error"]
    assert "not HTML" in out["/news/pdf"].meta["page_error"]
    assert feed_server.seen("/private/2") == []  # robots.txt was obeyed
    assert len(feed_server.seen("/robots.txt")) == 1  # and fetched once per host


def test_unreachable_robots_blocks_pages_for_now(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/robots.txt"] = reply(503, b"down", "text/plain")
    feed_server.routes["/feed"] = reply(
        200, feed_linking(feed_server, "/news/1"), "application/atom+xml"
    )
    feed_server.routes["/news/1"] = reply(200, b"<html><body>x</body></html>", "text/html")
    source = SourceSettings(name="f", url=feed_server.url("/feed"), fetch_pages=True)
    with FeedPoller(make_settings([source], tmp_path), tmp_path / "s.db") as p:
        (item,) = list(stream(p))
    assert isinstance(item, RawItem) and "unreachable" in item.meta["page_error"]
    assert item.meta["summary"] == "summary of /news/1"  # the feed's own text is kept
    assert feed_server.seen("/news/1") == []


def test_missing_robots_allows_everything(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/feed"] = reply(
        200, feed_linking(feed_server, "/news/1"), "application/atom+xml"
    )
    feed_server.routes["/news/1"] = reply(200, b"<html><body>x</body></html>", "text/html")
    source = SourceSettings(name="f", url=feed_server.url("/feed"), fetch_pages=True)
    with FeedPoller(make_settings([source], tmp_path), tmp_path / "s.db") as p:
        (item,) = list(stream(p))
    assert isinstance(item, RawItem) and item.html == "<html><body>x</body></html>"


def test_decode_html_charset_sources() -> None:
    assert decode_html("é".encode("latin-1"), "text/html; charset=ISO-8859-1") == "é"
    assert decode_html(b"<meta charset=utf-8>\xc3\xa9", "text/html") == "<meta charset=utf-8>é"
    assert decode_html(b"\xff", "text/html; charset=bogus") == "\ufffd"
