"""The polite client: size caps, decompression bombs, redirects, private addresses."""

from __future__ import annotations

import gzip
import ipaddress
import resource
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.addresses import AddressPolicy
from connectors.http import FetchError, HostGate, PoliteClient, retry_after_seconds
from connectors.poller import FeedPoller
from monitor.config import HttpSettings, SourceSettings
from monitor.model import RawItem, Rejected

from .conftest import FeedServer, make_settings, reply, stream

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><guid>urn:x:1</guid><title>One</title></item></channel></rss>"
)


def client(**kw: object) -> PoliteClient:
    """A client allowed to reach 127.0.0.1, with test-sized limits."""
    opts: dict[str, object] = {
        "allow_private": ["127.0.0.1"],
        "per_host_delay_s": 0.0,
        "max_bytes": 1024 * 1024,
        "read_timeout_s": 1.0,
        "total_timeout_s": 3.0,
    }
    opts.update(kw)
    return PoliteClient(HttpSettings(**opts))  # type: ignore[arg-type]


def test_gzip_body_is_decoded(feed_server: FeedServer) -> None:
    feed_server.routes["/z"] = reply(200, gzip.compress(RSS), Content_Encoding="gzip")
    feed_server.routes["/d"] = reply(200, zlib.compress(RSS), Content_Encoding="deflate")
    raw = zlib.compressobj(wbits=-15)
    feed_server.routes["/r"] = reply(
        200, raw.compress(RSS) + raw.flush(), Content_Encoding="deflate"
    )
    with client() as c:
        for path in ("/z", "/d", "/r"):
            assert c.get(feed_server.url(path)).body == RSS
    assert feed_server.requests[0].headers["accept-encoding"] == "gzip, deflate"
    assert feed_server.requests[0].headers["user-agent"].startswith("news-monitor/")


def test_gzip_bomb_is_stopped_at_the_cap(feed_server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB -> ~64 KiB
    assert len(bomb) < 100 * 1024
    feed_server.routes["/bomb"] = reply(200, bomb, Content_Encoding="gzip")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with client(max_bytes=1024 * 1024) as c, pytest.raises(FetchError) as err:
        c.get(feed_server.url("/bomb"))
    assert err.value.kind == "too_large" and "decompressed" in str(err.value)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 32 * 1024  # never inflated anywhere near 64 MiB


def test_declared_length_over_cap_is_refused_unread(feed_server: FeedServer) -> None:
    feed_server.routes["/big"] = reply(200, b"x" * 300_000)
    with client(max_bytes=100_000) as c, pytest.raises(FetchError) as err:
        c.get(feed_server.url("/big"))
    assert err.value.kind == "too_large" and "Content-Length" in str(err.value)


def test_redirect_loop_is_detected(feed_server: FeedServer) -> None:
    feed_server.routes["/a"] = reply(302, ctype="", Location="/b")
    feed_server.routes["/b"] = reply(302, ctype="", Location="/a")
    with client() as c, pytest.raises(FetchError) as err:
        c.get(feed_server.url("/a"))
    assert err.value.kind == "redirect" and "loop" in str(err.value)


def test_redirect_cap(feed_server: FeedServer) -> None:
    for i in range(5):
        feed_server.routes[f"/{i}"] = reply(302, ctype="", Location=f"/{i + 1}")
    feed_server.routes["/5"] = reply(200, RSS)
    with client(max_redirects=3) as c, pytest.raises(FetchError) as err:
        c.get(feed_server.url("/0"))
    assert "more than 3 redirects" in str(err.value)
    with client(max_redirects=5) as c:
        assert c.get(feed_server.url("/0")).redirects[-1].endswith("/5")


@pytest.mark.parametrize(
    "target", ["http://10.1.2.3/feed", "http://169.254.169.254/latest/meta-data/", "http://[::1]/x"]
)
def test_redirect_to_private_address_is_blocked(feed_server: FeedServer, target: str) -> None:
    feed_server.routes["/jump"] = reply(302, ctype="", Location=target)
    with client() as c, pytest.raises(FetchError) as err:
        c.get(feed_server.url("/jump"))
    assert err.value.kind == "blocked"


def test_loopback_refused_unless_allowed(feed_server: FeedServer) -> None:
    feed_server.routes["/f"] = reply(200, RSS)
    with client(allow_private=[]) as c:
        with pytest.raises(FetchError) as err:
            c.get(feed_server.url("/f"))
        assert err.value.kind == "blocked" and "loopback" in str(err.value)
        with pytest.raises(FetchError) as err:  # a name resolving to loopback: same
            c.get(f"http://localhost:{feed_server.port}/f")
        assert err.value.kind == "blocked"
    assert feed_server.requests == []  # nothing ever reached the server


def test_address_policy() -> None:
    policy = AddressPolicy.from_config(["127.0.0.1", "10.0.0.0/8", "intranet.example"])
    ip = ipaddress.ip_address
    assert policy.refusal("x", ip("93.184.216.34")) is None
    assert policy.refusal("x", ip("10.9.9.9")) is None
    assert policy.refusal("x", ip("127.0.0.1")) is None
    assert policy.refusal("intranet.example", ip("192.168.1.1")) is None
    assert "private" in (policy.refusal("x", ip("192.168.1.1")) or "")
    assert "loopback" in (policy.refusal("x", ip("127.0.0.2")) or "")
    assert "link-local" in (policy.refusal("x", ip("fe80::1")) or "")
    assert policy.refusal("x", ip("::ffff:192.168.0.1"))  # IPv4-mapped is unwrapped
    assert policy.refusal("x", ip("0.0.0.0"))


def test_billion_laughs_and_quadratic_blowup_are_harmless(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    laughs = b'<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    bl = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + laughs + b"\n]>\n"
        b'<rss version="2.0"><channel><title>t</title><item><guid>urn:x:1</guid>'
        b"<title>&lol9;</title></item></channel></rss>"
    )
    quad = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + b"x" * 40000 + b'">\n]>\n'
        b'<rss version="2.0"><channel><title>t</title><item><guid>urn:x:2</guid><title>'
        + b"&a;" * 20000
        + b"</title></item></channel></rss>"
    )
    feed_server.routes["/bl.xml"] = reply(200, bl)
    feed_server.routes["/quad.xml"] = reply(200, quad)
    sources = [
        SourceSettings(name="bl", url=feed_server.url("/bl.xml")),
        SourceSettings(name="quad", url=feed_server.url("/quad.xml")),
    ]
    started = time.monotonic()
    with FeedPoller(make_settings(sources, tmp_path), tmp_path / "s.db") as p:
        out = list(stream(p))
    assert time.monotonic() - started < 2.0  # unprotected, the quadratic case takes ~40 s
    items = [o for o in out if isinstance(o, RawItem)]
    assert {i.guid for i in items} == {"urn:x:1", "urn:x:2"}
    for i in items:
        assert len(i.title or "") < 100_000  # the entities were never expanded
        assert "unsafe entity" in i.meta["feed_warning"]
    assert not [o for o in out if isinstance(o, Rejected)]


def test_host_gate_spaces_requests_to_one_host() -> None:
    gate = HostGate(concurrency=1, delay_s=0.15)
    starts = []
    deadline = time.monotonic() + 5
    for _ in range(3):
        gate.acquire("h", deadline)
        starts.append(time.monotonic())
        gate.release("h")
    assert starts[2] - starts[0] >= 0.29
    gate.acquire("other", deadline)  # another host is not held back
    assert time.monotonic() - starts[2] < 0.1


def test_host_gate_gives_up_at_deadline() -> None:
    gate = HostGate(concurrency=1, delay_s=10.0)
    gate.acquire("h", time.monotonic() + 1)
    gate.release("h")
    with pytest.raises(FetchError):
        gate.acquire("h", time.monotonic() + 0.1)


def test_retry_after_parsing() -> None:
    now = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Mon, 01 Jan 2024 10:05:00 GMT", now) == 300
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None
