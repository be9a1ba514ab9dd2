"""Requests and response headers in httpcore's terms, as httpx would have made them.

`PoliteClient` calls httpcore's connection pool directly: httpx's request and response
objects cost more CPU than the rest of a small fetch's client side. A plain URL (the
usual feed URL: lower-case ASCII host, no userinfo, no percent escapes, no dot
segments) is split here by one regex; any other goes through `httpx.URL`, which
normalises it (IDNA, percent-encoding, default ports). Either way the request is the
one httpx would send (tests/connectors/test_httpwire.py compares both).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

import httpcore
import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}
_PLAIN_URL = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([1-9][0-9]{0,4}))?"
    r"(/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)?(\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?\Z"
)
_DOTTED = re.compile(r"[0-9.]+\Z")


def plain_url(url: str) -> tuple[str, str, int | None, str] | None:
    """Scheme, host, port (None when the default) and target of a plain URL, else None."""
    m = _PLAIN_URL.match(url)
    if m is None:
        return None
    scheme, host, port_text, path, query = m.groups()
    if path is not None and "/." in path:
        return None  # dot segments: httpx removes them
    if _DOTTED.match(host):
        try:  # httpx refuses what is not a valid IPv4 address; let it say so
            ipaddress.IPv4Address(host)
        except ValueError:
            return None
    port = int(port_text) if port_text else None
    if port is not None and port > 65535:
        return None
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    return scheme, host, port, (path or "/") + (query or "")


def request(
    url: str, headers: Mapping[str, str], extensions: dict[str, object]
) -> httpcore.Request:
    """A GET for `url` with a Host header first and then `headers`, as httpx builds it."""
    plain = plain_url(url)
    if plain is not None:
        scheme, host, port, target = plain
        raw_host, raw_target = host.encode("ascii"), target.encode("ascii")
        netloc = raw_host if port is None else b"%s:%d" % (raw_host, port)
        raw_scheme = scheme.encode("ascii")
    else:
        parsed = httpx.URL(url)
        raw_scheme, raw_host, port = parsed.raw_scheme, parsed.raw_host, parsed.port
        raw_target, netloc = parsed.raw_path, parsed.netloc
    raw_headers = [(b"Host", netloc)]
    raw_headers += [(k.encode("ascii"), v.encode("ascii")) for k, v in headers.items()]
    where = httpcore.URL(scheme=raw_scheme, host=raw_host, port=port, target=raw_target)
    return httpcore.Request("GET", where, headers=raw_headers, extensions=extensions)


def header_dict(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers by lower-cased name, repeats joined with ", " (httpx's `items()`).

    Decoded as httpx does: all ASCII, else all UTF-8, else all Latin-1.
    """
    pairs = list(raw)
    for encoding in ("ascii", "utf-8", "iso-8859-1"):
        try:
            decoded = [(k.decode(encoding).lower(), v.decode(encoding)) for k, v in pairs]
            break
        except UnicodeDecodeError:
            continue
    out: dict[str, str] = {}
    for name, value in decoded:
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out
