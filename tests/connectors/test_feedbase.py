"""When a feed needs its base URL, and the hints that remember it (connectors.feedbase)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from feedparser.urls import _urljoin, make_safe_absolute_uri

from connectors.feedbase import (
    _PLAIN_URL,
    BaseHints,
    _joins_to_other,
    effective_base,
    ids_may_resolve,
    parse_fast,
    parse_with_base,
)
from connectors.feeds import ParsedFeed, parse_feed

URL = "https://news.example/feeds/main.xml"
WHEN = datetime(2024, 1, 2, tzinfo=UTC)
WRITTEN = Path(__file__).parent / "feeds_written"


def _rss(items: str, head: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{head}<rss version="2.0"><channel><title>t</title>'
        f"{items}</channel></rss>"
    ).encode()


def _values(d: Any) -> list[tuple[Any, ...]]:
    return [
        (e.get("link"), e.get("id"), e.get("title"), e.get("summary"),
         [c.get("value") for c in e.get("content") or ()])
        for e in d.entries
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("items", "needed"),
    [
        ("<item><guid>https://a.example/1</guid><title>x</title></item>", False),
        ("<item><link>https://a.example/1</link><description>&lt;a href=\"https://b.example/"
         "?a=1&amp;amp;b=2\"&gt;x&lt;/a&gt;</description></item>", False),
        ("<item><guid isPermaLink=\"false\">12345</guid><link>https://a.example/1</link></item>",
         False),
        ("<item><link>/story/1</link></item>", True),
        ("<item><guid>story-1</guid></item>", True),  # a permalink guid is joined with the base
        ("<item><link>https://a.example/1</link><description>&lt;img src=\"i.png\"&gt;"
         "</description></item>", True),
        ("<item><link>https://a.example/1</link><description>&lt;a href=\"javascript:x()\"&gt;"
         "j&lt;/a&gt;</description></item>", True),
        ("<item><link>HTTPS://A.example/1</link></item>", True),  # joining lower-cases it
        ('<item xml:base="https://c.example/"><link>https://a.example/1</link></item>', True),
    ],
)  # fmt: skip
def test_parse_fast_uses_the_base_only_when_it_changes_something(items: str, needed: bool) -> None:
    body = _rss(items)
    d, needed_base = parse_fast(body, URL, "application/rss+xml")
    assert needed_base is needed
    # Either way the values items are made of are what a parse with the base gives.
    assert _values(d) == _values(parse_with_base(body, URL, "application/rss+xml"))


def test_without_the_base_a_relative_link_would_stay_relative() -> None:
    """The check is not idle: parsed without the base, these values do differ."""
    body = _rss("<item><link>/story/1</link></item>")
    assert _values(parse_with_base(body, URL, ""))[0][0] == "https://news.example/story/1"
    d, needed = parse_fast(body, URL, "")
    assert needed and d.entries[0].link == "https://news.example/story/1"


def test_ids_may_resolve_unless_every_id_is_a_plain_guid() -> None:
    assert not ids_may_resolve(_rss('<item><guid isPermaLink="false">1</guid></item>'))
    assert ids_may_resolve(_rss('<item><guid isPermaLink="true">1</guid></item>'))
    assert ids_may_resolve(_rss('<item><guid isPermaLink="false">1</guid></item><item><guid>'
                                "2</guid></item>"))  # fmt: skip
    assert ids_may_resolve(b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>')
    assert ids_may_resolve(_rss('<item><guid isPermaLink="&#116;rue">1</guid></item>'))


@pytest.mark.parametrize("path", sorted(WRITTEN.glob("*.xml")), ids=lambda p: p.name)
def test_written_feeds_parse_the_same_with_the_base_forced(path: Path) -> None:
    body = path.read_bytes()
    fast = parse_feed(body, source="s", url=URL, content_type="application/xml", fetched=WHEN)
    forced = parse_feed(
        body, source="s", url=URL, content_type="application/xml", fetched=WHEN, with_base=True
    )
    assert isinstance(fast, ParsedFeed) and isinstance(forced, ParsedFeed)
    assert [i for i in fast.items] == [i for i in forced.items]
    assert (fast.title, fast.version, fast.warning) == (
        forced.title,
        forced.version,
        forced.warning,
    )
    assert forced.needed_base


def test_written_feeds_with_relative_links_report_needed_base() -> None:
    needed = {
        p.name
        for p in WRITTEN.glob("*.xml")
        if (r := parse_feed(p.read_bytes(), source="s", url=URL)) and isinstance(r, ParsedFeed)
        and r.needed_base
    }  # fmt: skip
    assert {"relative_rss.xml", "xml_base_atom.xml", "xml_base_relative.xml"} <= needed
    assert "absolute_rss.xml" not in needed


def test_base_hints_last_their_ttl_and_are_not_extended() -> None:
    hints = BaseHints(capacity=10, ttl_s=100.0)
    assert not hints.wants_base("f", now=0.0)
    hints.remember("f", now=0.0)
    assert hints.wants_base("f", now=99.0)
    hints.remember("f", now=50.0)  # still valid: kept as it is, not pushed out
    assert not hints.wants_base("f", now=101.0)
    hints.remember("f", now=101.0)  # expired: a fresh hint
    assert hints.wants_base("f", now=200.0)


def test_base_hints_are_bounded_oldest_first() -> None:
    hints = BaseHints(capacity=3, ttl_s=100.0)
    for name in ("a", "b", "c", "d"):
        hints.remember(name, now=0.0)
    assert len(hints) == 3
    assert not hints.wants_base("a", now=1.0)
    assert all(hints.wants_base(n, now=1.0) for n in ("b", "c", "d"))


@pytest.mark.parametrize(
    "uri",
    ["https://a.example", "http://a.example:8080/p/q?x=1&y=[2]#f", "https://A.Example/é/ü?q=ä"],
)
def test_plain_urls_join_to_themselves(uri: str) -> None:
    for base in ("http://b.example/x/y", "https://c.example/", URL):
        assert _urljoin(base, uri) == uri and make_safe_absolute_uri(base, uri) == uri
    assert _PLAIN_URL.match(uri)


@pytest.mark.parametrize(
    "uri",
    ["HTTP://a.example/", "http:///a", "http://a.example/p?", "http://a.example/p#",
     "http://a.example/p;", "http://[::1/", " http://a.example/", "http://a.example/\x01",
     "/rel", "a.example/x"],
)  # fmt: skip
def test_other_urls_take_the_full_join(uri: str) -> None:
    assert _PLAIN_URL.match(uri) is None


@pytest.mark.parametrize(
    ("uri", "moves"),
    [("urn:bench:1:2", False), ("tag:a.example,2024:1", False), ("HTTPS:x", False),
     ("http:x", True), ("urn:\n//x]", True), ("12345", True), ("https://a.example/p", False)],
)  # fmt: skip
def test_ids_with_another_scheme_are_left_alone(uri: str, moves: bool) -> None:
    base = "http://b.example/feed"
    assert _joins_to_other(base, uri) is moves
    assert (_urljoin(base, uri) != uri) is moves


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/feed/1",
        "https://News.Example/a/./b/../c?x=1&y=2#frag",
        "http://a.example",
        "https://a.example/path%20x?q=a%20b",
        "http://a.example/a;b",
        "http://a.example/a?",
        "http:///a.example/b",
    ],
)
def test_the_base_of_a_feed_url_is_what_feedparser_settles_on(url: str) -> None:
    first = make_safe_absolute_uri(url, url) or url
    settled = first if (make_safe_absolute_uri(first, first) or first) == first else None
    assert effective_base(url) == settled
    if _PLAIN_URL.match(url):
        assert settled == url
