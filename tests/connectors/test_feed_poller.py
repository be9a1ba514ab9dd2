"""The poller against a real local server: conditional GET, errors as values, state."""

from __future__ import annotations

import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from connectors.poller import FeedPoller
from connectors.polls import PollOutcome, PollStatus
from monitor.config import SourceSettings
from monitor.model import RawItem, Rejected, utcnow

from .conftest import FeedServer, make_settings, polls, reply, stream


def rss(*guids: str, ttl: int | None = None, charset: str = "utf-8") -> bytes:
    """A small RSS 2.0 document with one item per GUID."""
    items = "".join(
        f'<item><guid isPermaLink="false">urn:test:{g}</guid>'
        f"<title>Item {g}</title><link>http://news.example/{g}</link>"
        f"<description>Text of {g}</description>"
        f"<pubDate>Mon, 0{i + 1} Jan 2024 10:00:00 GMT</pubDate></item>"
        for i, g in enumerate(guids)
    )
    ttl_el = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        f'<?xml version="1.0" encoding="{charset}"?><rss version="2.0"><channel>'
        f"<title>Test feed</title>{ttl_el}{items}</channel></rss>"
    ).encode(charset)


def guids(out: list[RawItem | Rejected]) -> list[str]:
    """The test GUIDs of the items handed on, in order."""
    return [i.guid.removeprefix("urn:test:") for i in out if isinstance(i, RawItem) and i.guid]


def failed(outcome: PollOutcome, kind: str) -> str:
    """The error of a failed poll, after checking its status and kind."""
    assert outcome.status is PollStatus.FAILED and outcome.failed, outcome
    assert outcome.error is not None and outcome.error.kind == kind, outcome.error
    return str(outcome.error)


def poll(settings_src: list[SourceSettings], tmp: Path, **http: object) -> FeedPoller:
    """A poller over these sources with test settings."""
    return FeedPoller(make_settings(settings_src, tmp, **http), tmp / "state.db")


def src(server: FeedServer, path: str, **kw: object) -> SourceSettings:
    """A source for `path` on the test server."""
    return SourceSettings(name=path.strip("/"), url=server.url(path), **kw)  # type: ignore[arg-type]


def test_items_carry_entry_fields(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/a.xml"] = reply(200, rss("g1", "g2"))
    with poll([src(feed_server, "/a.xml")], tmp_path) as p:
        out = list(stream(p))
    assert guids(out) == ["g1", "g2"]  # oldest first
    first = out[0]
    assert isinstance(first, RawItem)
    assert first.url == "http://news.example/g1"
    assert first.title == "Item g1"
    assert first.text == "Text of g1" or first.html == "Text of g1"
    assert first.meta["summary"] == "Text of g1"
    assert first.meta["feed"]["title"] == "Test feed"
    assert first.published is not None and first.published.tzinfo is not None
    assert first.source == "a.xml"


def test_second_poll_sends_conditional_headers_and_yields_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    body = rss("g1")

    def conditional(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            reply(304, ctype="")(h)
        else:
            reply(200, body, ETag='"v1"', Last_Modified="Mon, 01 Jan 2024 10:00:00 GMT")(h)

    feed_server.routes["/c.xml"] = conditional
    with poll([src(feed_server, "/c.xml")], tmp_path) as p:
        assert len(list(stream(p))) == 1
        assert list(stream(p)) == []
        state = p.state("c.xml")
    second = feed_server.seen("/c.xml")[1].headers
    assert second["if-none-match"] == '"v1"'
    assert second["if-modified-since"] == "Mon, 01 Jan 2024 10:00:00 GMT"
    assert state is not None and state.last_status == 304 and state.items_seen == 1


def test_unchanged_body_without_validators_yields_nothing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/n.xml"] = reply(200, rss("g1"))
    with poll([src(feed_server, "/n.xml")], tmp_path) as p:
        assert len(list(stream(p))) == 1
        assert list(stream(p)) == []  # same body hash


def test_only_new_entries_are_handed_on(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/g.xml"] = reply(200, rss("g1", "g2"))
    with poll([src(feed_server, "/g.xml")], tmp_path) as p:
        assert len(list(stream(p))) == 2
        feed_server.routes["/g.xml"] = reply(200, rss("g3", "g1", "g2"))
        out = list(stream(p))
        assert guids(out) == ["g3"]
        assert p.state("g.xml").items_seen == 3  # type: ignore[union-attr]


def test_a_feed_whose_every_entry_is_new_is_flagged_as_overflowing(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/o.xml"] = reply(200, rss("g1", "g2"))
    source = src(feed_server, "/o.xml")
    with poll([source], tmp_path) as p:
        first = p.fetch(source)
        assert not first.overflow  # a first poll has nothing to compare with
        list(p.deliver(first))
        feed_server.routes["/o.xml"] = reply(200, rss("g3", "g2"))
        overlapping = p.fetch(source)
        assert not overlapping.overflow
        list(p.deliver(overlapping))
        # g4 and g5 came while g3 and g2 went: whatever was between may be lost.
        feed_server.routes["/o.xml"] = reply(200, rss("g5", "g4"))
        gap = p.fetch(source)
        assert gap.overflow
        assert sorted(guids(list(p.deliver(gap)))) == ["g4", "g5"]  # still delivered


def test_entry_not_confirmed_by_consumer_is_delivered_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/r.xml"] = reply(200, rss("g1", "g2"))
    with poll([src(feed_server, "/r.xml")], tmp_path) as p:
        it = stream(p)
        next(it)  # g1: handed over...
        next(it)  # ...and confirmed by asking for more; g2 is handed over but never confirmed
        it.close()  # the consumer stops (crash, shutdown)
        out = list(stream(p))
    assert guids(out) == ["g2"]  # at least once: the unconfirmed entry comes again


def test_a_restart_after_a_first_poll_stopped_midway_keeps_its_taken_entries(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/h.xml"] = reply(200, rss("g1", "g2", "g3"))
    sources = [src(feed_server, "/h.xml")]
    with poll(sources, tmp_path) as p:
        it = stream(p)
        next(it)
        next(it)  # g1 confirmed, g2 handed over but not confirmed
        it.close()
    with poll(sources, tmp_path) as p:  # a new start: the feed has seen entries, no state
        assert p.state("h.xml") is None
        assert guids(list(stream(p))) == ["g2", "g3"]
        assert guids(list(stream(p))) == []


def test_429_with_retry_after_is_an_error_value_and_delays(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/busy.xml"] = reply(429, b"slow down", "text/plain", Retry_After="3600")
    with poll([src(feed_server, "/busy.xml")], tmp_path) as p:
        out, (outcome,) = polls(p)
        state = p.state("busy.xml")
    assert out == []  # a feed's failure is its poll's outcome, never an item
    assert "429" in failed(outcome, "status")
    assert state is not None and state.error_count == 1 and state.next_check is not None
    assert state.next_check >= utcnow() + timedelta(seconds=3500)


def test_500_backs_off_then_slow_lane_never_gives_up(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/err.xml"] = reply(500, b"oops", "text/plain")
    with poll([src(feed_server, "/err.xml")], tmp_path) as p:
        for _ in range(5):  # slow_lane_after defaults to 5
            out, (outcome,) = polls(p)
            assert out == [] and "HTTP 500" in failed(outcome, "status")
        state = p.state("err.xml")
        assert state is not None
        assert state.slow_lane and state.status == "slow lane" and state.error_count == 5
        assert state.next_check is not None  # still scheduled
        feed_server.routes["/err.xml"] = reply(200, rss("g1"))
        assert len(list(stream(p))) == 1
        state = p.state("err.xml")
    assert state is not None and not state.slow_lane and state.error_count == 0
    assert state.total_errors == 5


def test_slow_server_times_out(feed_server: FeedServer, tmp_path: Path) -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(2.0)
        reply(200, rss("g1"))(h)

    feed_server.routes["/slow.xml"] = slow
    started = time.monotonic()
    with poll([src(feed_server, "/slow.xml")], tmp_path, read_timeout_s=0.3) as p:
        out, (outcome,) = polls(p)
    assert time.monotonic() - started < 1.8
    assert out == [] and failed(outcome, "timeout").startswith("timeout")


def test_trickling_body_hits_total_timeout(feed_server: FeedServer, tmp_path: Path) -> None:
    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    feed_server.routes["/trickle.xml"] = trickle
    with poll([src(feed_server, "/trickle.xml")], tmp_path, total_timeout_s=0.8) as p:
        out, (outcome,) = polls(p)
    assert out == [] and "total timeout" in failed(outcome, "timeout")


def test_endless_body_is_capped(feed_server: FeedServer, tmp_path: Path) -> None:
    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"<a>" * 10000
        try:
            while True:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass

    feed_server.routes["/endless.xml"] = endless
    with poll([src(feed_server, "/endless.xml")], tmp_path, max_bytes=256 * 1024) as p:
        out, (outcome,) = polls(p)
    assert out == [] and failed(outcome, "too_large").startswith("too_large")


def test_wrong_declared_encoding_still_yields_entries(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # Declared UTF-8, actually Latin-1 (the é is a lone 0xE9 byte).
    body = rss("g1").replace(b"Item g1", "Café g1".encode("latin-1"))
    feed_server.routes["/enc.xml"] = reply(200, body, "application/rss+xml; charset=utf-8")
    with poll([src(feed_server, "/enc.xml")], tmp_path) as p:
        out = list(stream(p))
    assert len(out) == 1 and isinstance(out[0], RawItem)
    assert out[0].title == "Café g1"
    assert "feed_warning" in out[0].meta  # feedparser's bozo, passed on


def test_html_instead_of_feed_is_a_clear_error(feed_server: FeedServer, tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>"
    feed_server.routes["/page.xml"] = reply(200, page, "text/html; charset=utf-8")
    with poll([src(feed_server, "/page.xml")], tmp_path) as p:
        out, (outcome,) = polls(p)
    assert out == [] and "HTML page, not a feed" in failed(outcome, "parse")


def test_wrong_content_type_refused_before_reading(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/img.xml"] = reply(200, b"\x89PNG....", "image/png")
    with poll([src(feed_server, "/img.xml")], tmp_path) as p:
        out, (outcome,) = polls(p)
    assert out == [] and failed(outcome, "content_type").startswith("content_type")


def test_json_feed(feed_server: FeedServer, tmp_path: Path) -> None:
    doc = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'{"id": "1", "url": "http://j.example/1", "title": "One", "content_html": "<p>x</p>",'
        b' "date_published": "2024-01-01T10:00:00Z"},'
        b'{"id": 2, "content_text": "plain"}, "junk"]}'
    )
    feed_server.routes["/f.json"] = reply(200, doc, "application/feed+json")
    with poll([src(feed_server, "/f.json")], tmp_path) as p:
        out = list(stream(p))
    items = [i for i in out if isinstance(i, RawItem)]
    assert {i.guid for i in items} == {"1", "2"}
    one = next(i for i in items if i.guid == "1")
    assert one.html == "<p>x</p>" and one.published is not None
    assert [r.error for r in out if isinstance(r, Rejected)] == ["JSON Feed item is not an object"]


def test_301_updates_stored_url(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/old.xml"] = reply(301, ctype="", Location="/new.xml")
    feed_server.routes["/new.xml"] = reply(200, rss("g1"))
    with poll([src(feed_server, "/old.xml")], tmp_path) as p:
        assert len(list(stream(p))) == 1
        state = p.state("old.xml")
        assert state is not None and state.current_url == feed_server.url("/new.xml")
        list(stream(p))
    assert len(feed_server.seen("/old.xml")) == 1  # the second poll went straight to /new.xml
    assert len(feed_server.seen("/new.xml")) == 2


def test_302_does_not_update_stored_url(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/tmp.xml"] = reply(302, ctype="", Location="/new.xml")
    feed_server.routes["/new.xml"] = reply(200, rss("g1"))
    with poll([src(feed_server, "/tmp.xml")], tmp_path) as p:
        list(stream(p))
        state = p.state("tmp.xml")
    assert state is not None and state.current_url == feed_server.url("/tmp.xml")


def test_410_retires_the_feed(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/gone.xml"] = reply(410, b"gone", "text/plain")
    with poll([src(feed_server, "/gone.xml")], tmp_path) as p:
        out, (outcome,) = polls(p)
        assert out == [] and outcome.status is PollStatus.RETIRED and outcome.failed
        assert outcome.error is not None and "retired: 410 Gone" in str(outcome.error)
        again, (later,) = polls(p)
        state = p.state("gone.xml")
    assert again == [] and later.status is PollStatus.RETIRED and later.state is None
    assert later.error is not None and "change its URL" in str(later.error)
    assert len(feed_server.seen("/gone.xml")) == 1  # never requested again
    assert state is not None and state.status == "retired" and state.next_check is None


def test_retired_feed_with_new_configured_url_is_polled_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/gone.xml"] = reply(410, b"gone", "text/plain")
    feed_server.routes["/back.xml"] = reply(200, rss("g1"))
    with poll([SourceSettings(name="x", url=feed_server.url("/gone.xml"))], tmp_path) as p:
        list(stream(p))
    with poll([SourceSettings(name="x", url=feed_server.url("/back.xml"))], tmp_path) as p:
        assert len(list(stream(p))) == 1


def test_one_bad_feed_does_not_stop_the_others(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.routes["/ok.xml"] = reply(200, rss("g1"))
    feed_server.routes["/bad.xml"] = reply(200, b"<rss><channel><item>", "application/xml")
    sources = [src(feed_server, "/ok.xml"), src(feed_server, "/bad.xml"), src(feed_server, "/404")]
    with poll(sources, tmp_path) as p:
        out, outcomes = polls(p)
    assert [o.source for o in out if isinstance(o, RawItem)] == ["ok.xml"]
    assert all(o.source == "bad.xml" for o in out if isinstance(o, Rejected))  # its bad entry
    by_source = {o.name: o for o in outcomes}
    assert by_source["ok.xml"].status is PollStatus.CHANGED
    assert "HTTP 404" in failed(by_source["404"], "status")


def test_retry_after_holds_back_the_whole_host_without_blaming_other_feeds(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.routes["/busy.xml"] = reply(429, b"", "text/plain", Retry_After="600")
    feed_server.routes["/ok.xml"] = reply(200, rss("g1"))
    with poll([src(feed_server, "/busy.xml")], tmp_path) as p:
        list(stream(p))
        outcome = p.poll(src(feed_server, "/ok.xml"))
        out = list(p.deliver(outcome))
        state = p.state("ok.xml")
    assert out == [] and outcome.status is PollStatus.DEFERRED and not outcome.failed
    assert outcome.error is not None and outcome.error.kind == "deferred"
    assert str(outcome.error).startswith("deferred: 127.0.0.1 asked")
    assert feed_server.seen("/ok.xml") == []  # not even asked
    assert state is not None and state.error_count == 0 and state.next_check is not None
    assert state.next_check >= utcnow() + timedelta(seconds=590)


def test_ttl_and_max_age_set_the_next_check(feed_server: FeedServer, tmp_path: Path) -> None:
    def conditional(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"t"':
            reply(304, ctype="", Cache_Control="max-age=60")(h)
        else:
            reply(200, rss("g1", ttl=120), ETag='"t"')(h)

    feed_server.routes["/ttl.xml"] = conditional
    feed_server.routes["/cc.xml"] = reply(200, rss("g1"), Cache_Control="public, max-age=5400")
    sources = [src(feed_server, "/ttl.xml"), src(feed_server, "/cc.xml")]
    with poll(sources, tmp_path) as p:
        list(stream(p))
        list(stream(p))  # /ttl.xml answers 304: its <ttl> (2 h) must still hold
        ttl, cc = p.state("ttl.xml"), p.state("cc.xml")
    assert ttl is not None and ttl.next_check is not None and ttl.last_status == 304
    assert ttl.next_check >= utcnow() + timedelta(seconds=7100)
    assert cc is not None and cc.next_check is not None
    assert cc.next_check >= utcnow() + timedelta(seconds=5300)


def test_per_host_delay_defers_rather_than_fails(feed_server: FeedServer, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        feed_server.routes[f"/{name}.xml"] = reply(200, rss(name))
    sources = [src(feed_server, f"/{n}.xml") for n in ("a", "b", "c")]
    with poll(sources, tmp_path, per_host_delay_s=2.0, total_timeout_s=0.5) as p:
        out, outcomes = polls(p)
        states = p.states()
    assert len(out) == 1 and isinstance(out[0], RawItem)  # one request per 2 s
    deferred = [o for o in outcomes if o.status is PollStatus.DEFERRED]
    assert len(deferred) == 2 and all(
        str(d.error).startswith("deferred: 127.0.0.1 is busy") for d in deferred
    )
    assert all(s.error_count == 0 and s.next_check is not None for s in states)


def test_interleave_hosts() -> None:
    from connectors.poller import interleave_hosts

    srcs = [
        SourceSettings(name=n, url=u)
        for n, u in [
            ("a1", "http://a/1"),
            ("a2", "http://a/2"),
            ("a3", "http://A/3"),
            ("b1", "http://b/1"),
        ]
    ]
    assert [s.name for s in interleave_hosts(srcs)] == ["a1", "b1", "a2", "a3"]
