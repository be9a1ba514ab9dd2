"""httpwire builds the request httpx builds, and reads response headers as httpx reads them."""

from __future__ import annotations

import httpx
import pytest

from connectors.httpwire import header_dict, plain_url, request

URLS = [
    "http://127.0.0.1:8080/feed/1",
    "http://news.example/rss",
    "https://news.example",
    "http://news.example:80/a",
    "https://news.example:443/a?b=c&d=e/f?g",
    "https://news.example:8443/a;b,c/@x:y~z!$'()*+",
    "http://news.example?only=query",
    "http://sub.news-site.example/a/.well-known/x",
    "http://news.example/a/../b/./c",
    "http://News.Example/A",
    "HTTP://news.example/a",
    "http://news.example/a b/ü?q=é",
    "http://news.example/%7Euser",
    "http://user:pw@news.example/a",
    "http://bücher.example/feed",
    "http://[::1]:8000/feed",
    "http://news.example:08080/a",
    "http://news.example/a#frag",
    "http://1.2.3/x",
]


@pytest.mark.parametrize("url", URLS)
def test_the_request_is_the_one_httpx_builds(url: str) -> None:
    headers = {"Accept": "*/*", "If-None-Match": '"v1"'}
    ours = request(url, headers, {"timeout": {}})
    theirs = httpx.Request("GET", url, headers=headers)
    assert (ours.url.scheme, ours.url.host, ours.url.port, ours.url.target) == (
        theirs.url.raw_scheme,
        theirs.url.raw_host,
        theirs.url.port,
        theirs.url.raw_path,
    )
    assert ours.headers == theirs.headers.raw
    assert ours.method == b"GET"


def test_plain_urls_skip_httpx_and_others_do_not() -> None:
    plain = plain_url("http://127.0.0.1:8080/feed/1?x=1")
    assert plain == ("http", "127.0.0.1", 8080, "/feed/1?x=1")
    assert plain_url("https://news.example:443") == ("https", "news.example", None, "/")
    for url in ("http://News.Example/", "http://a.example/%20", "http://a.example/./b",
                "http://999.1.1.1/", "http://a.example:99999/", "http://u@a.example/"):  # fmt: skip
        assert plain_url(url) is None, url


def test_response_headers_read_as_httpx_reads_them() -> None:
    raw = [
        (b"Content-Type", b"application/rss+xml"),
        (b"Set-Cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"X-Title", "caf\u00e9".encode()),
    ]
    assert header_dict(raw) == {k.lower(): v for k, v in httpx.Headers(raw).items()}
    latin = [(b"X-Name", "caf\u00e9".encode("latin-1")), (b"X-Other", "\u00fc".encode())]
    assert header_dict(latin) == {k.lower(): v for k, v in httpx.Headers(latin).items()}
