"""One polite, safe HTTP client shared by every fetching connector.

Built on httpcore's thread-safe connection pool, called as httpx would call it
(connectors.httpwire; docs/feeds.md has the CPU figures). What it adds on top:

- connect/read timeouts, plus a total deadline checked while streaming;
- a body cap counted on the wire *and* after decompression, enforced chunk by
  chunk (we decompress the raw stream ourselves with a bounded zlib: httpx 0.28
  inflates a whole network chunk at once, so a gzip bomb would balloon before any check);
- redirects followed by hand, capped, loop-detected, each hop re-checked;
- no connection to loopback/private/link-local/reserved addresses unless
  `http.allow_private` allows it, checked on the *resolved* address at connect
  time (so DNS rebinding and redirects to private hosts are caught too; connectors.addresses);
- content-type checks before the body is read;
- per-host concurrency and a minimum delay between requests to one host;
- an honest User-Agent, conditional GET headers, Retry-After parsing.

Failures raise `FetchError` with a `kind`; the connectors turn them into values.
"""

from __future__ import annotations

import contextlib
import email.utils
import random
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from connectors import httpwire
from connectors.addresses import AddressPolicy as AddressPolicy  # importable from here too
from connectors.addresses import BlockedAddress, GuardedBackend
from monitor.config import HttpSettings

REDIRECTS = {301, 302, 303, 307, 308}
_NETWORK_ERRORS = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)
"""What httpx would have raised as other `httpx.HTTPError`s (same class names)."""
PERMANENT = {301, 308}
ERROR_BODY_CAP = 64 * 1024
"""Non-2xx bodies are only read this far (they are reported, not parsed)."""

ContentTypeCheck = Callable[[str], str | None]
"""Given a media type ("" when absent), return None if fine or the reason it is not."""


class FetchError(Exception):
    """A fetch that failed; `kind` names the failure for counting and tests."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A fully read (and capped) response, after redirects."""

    url: str
    """Final URL, after redirects."""
    status: int
    headers: Mapping[str, str]
    """Lower-cased header names."""
    body: bytes
    """Decompressed body (empty for 304; truncated to a small cap for errors)."""
    permanent_url: str | None = None
    """Where the request now permanently lives, if every hop was a 301/308."""
    redirects: tuple[str, ...] = ()

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower-cased ("" when absent)."""
        return media_type(self.headers.get("content-type", ""))

    def retry_after(self, now: datetime | None = None) -> float | None:
        """Seconds the server asked us to wait (Retry-After), if it said."""
        return retry_after_seconds(self.headers.get("retry-after"), now)


def media_type(content_type: str) -> str:
    """Strip parameters from a Content-Type value."""
    return content_type.split(";", 1)[0].strip().lower()


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse a Retry-After value (delta-seconds or HTTP-date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(
    attempt: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with "equal jitter": between half and all of min(cap, base*2^n)."""
    ceiling: float = min(cap, base * 2.0 ** max(0, min(attempt, 30)))
    r = rng.random() if rng else random.random()
    return ceiling / 2 + r * ceiling / 2


# -- per-host politeness ----------------------------------------------------------


@dataclass
class _Host:
    slots: threading.BoundedSemaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0
    deferred_until: float = 0.0
    """Set by a 429/503 Retry-After: no request to this host before then."""


class HostGate:
    """Per-host concurrency limit and minimum delay between request starts."""

    def __init__(self, concurrency: int, delay_s: float) -> None:
        self._concurrency = concurrency
        self._delay = delay_s
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, host: str) -> _Host:
        with self._lock:
            h = self._hosts.get(host)
            if h is None:
                h = self._hosts[host] = _Host(threading.BoundedSemaphore(self._concurrency))
            return h

    def acquire(self, host: str, deadline: float, delay_s: float | None = None) -> None:
        """Wait for a slot and for the host's delay; FetchError if the deadline passes first."""
        h = self._host(host)
        now = time.monotonic()
        if h.deferred_until > deadline:
            # The host told us to wait (Retry-After): not this feed's fault, say so.
            left = h.deferred_until - now
            raise FetchError("deferred", f"{host} asked us to wait {left:.0f}s more", left)
        if not h.slots.acquire(timeout=max(0.0, deadline - now)):
            # Our own politeness held this request back: not the feed's fault either.
            raise FetchError("deferred", f"{host} is busy (no free slot); try later", 60.0)
        delay = self._delay if delay_s is None else max(self._delay, delay_s)
        with h.lock:
            now = time.monotonic()
            start = max(now, h.next_start, h.deferred_until)
            if start <= deadline:
                h.next_start = start + delay
        if start > deadline:
            h.slots.release()
            wait = start - now
            raise FetchError("deferred", f"{host} is busy (next request slot in {wait:.0f}s)", wait)
        if start > now:
            time.sleep(start - now)

    def release(self, host: str) -> None:
        """Give the slot back."""
        self._host(host).slots.release()

    def defer(self, host: str, seconds: float) -> None:
        """Hold back every request to `host` for `seconds` (after a 429/503 with Retry-After)."""
        h = self._host(host)
        with h.lock:
            h.deferred_until = max(h.deferred_until, time.monotonic() + seconds)


# -- decompression ----------------------------------------------------------------


class _Inflater:
    """Incremental, output-bounded decoder for gzip/deflate/identity bodies."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.out = 0
        enc = encoding.strip().lower()
        if enc in ("", "identity"):
            self._z: Any = None
        elif enc in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._z = "deflate?"  # zlib-wrapped or raw: decided on the first bytes
        else:
            raise FetchError("encoding", f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes) -> bytes:
        """Decode one chunk; FetchError once the decoded size passes the cap."""
        if self._z is None:
            return self._count(data)
        if self._z == "deflate?":
            # RFC 9110 deflate is zlib-wrapped, but servers send raw deflate too.
            raw = not data or (data[0] & 0x0F) != 8
            self._z = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        parts = []
        try:
            # max_length bounds each step, so a bomb never inflates past the cap + 64 KiB.
            chunk = self._z.decompress(data, 65536)
            parts.append(self._count(chunk))
            while self._z.unconsumed_tail:
                chunk = self._z.decompress(self._z.unconsumed_tail, 65536)
                parts.append(self._count(chunk))
        except zlib.error as exc:
            raise FetchError("encoding", f"corrupt compressed body: {exc}") from None
        return b"".join(parts)

    def _count(self, chunk: bytes) -> bytes:
        self.out += len(chunk)
        if self.out > self.cap:
            raise FetchError("too_large", f"body is larger than {self.cap} bytes once decompressed")
        return chunk


# -- the client ---------------------------------------------------------------------


class PoliteClient:
    """The shared HTTP client: use `get()` from any thread; `close()` once at the end."""

    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings
        self.policy = AddressPolicy.from_config(settings.allow_private)
        self.gate = HostGate(settings.per_host_concurrency, settings.per_host_delay_s)
        # httpcore's pool with our guarded backend (httpx 0.28's transport has no
        # network_backend argument), called directly: redirects are followed by hand and
        # no cookies are kept, so httpx's client, request and response objects would only
        # cost CPU on every fetch (connectors.httpwire builds what httpx would send).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=settings.verify_tls, trust_env=False),
            max_connections=settings.pool_size * 2,
            max_keepalive_connections=settings.pool_size * 2,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(self.policy),
        )
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout_s,
            read=settings.read_timeout_s,
            write=settings.read_timeout_s,
            pool=settings.total_timeout_s,
        ).as_dict()
        self._headers = {
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
            "User-Agent": settings.user_agent,
        }

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        etag: str | None = None,
        last_modified: str | None = None,
        content_type_check: ContentTypeCheck | None = None,
        host_delay_s: float | None = None,
    ) -> HttpResponse:
        """GET `url` politely; follow redirects; return the capped, decoded response."""
        started = time.monotonic()
        deadline = started + self.settings.total_timeout_s
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen = [url]
        permanent = True
        current = url
        while True:
            resp = self._one(current, headers, deadline, content_type_check, host_delay_s)
            if resp.status not in REDIRECTS:
                break
            location = resp.headers.get("location")
            if not location:
                break  # a redirect without Location is just a response
            nxt = urljoin(current, location.strip())
            if urlsplit(nxt).scheme not in ("http", "https"):
                raise FetchError("redirect", f"redirect to a non-HTTP URL: {nxt}")
            if nxt in seen:
                raise FetchError("redirect", f"redirect loop: {' -> '.join([*seen, nxt])}")
            if len(seen) > self.settings.max_redirects:
                raise FetchError("redirect", f"more than {self.settings.max_redirects} redirects")
            permanent = permanent and resp.status in PERMANENT
            seen.append(nxt)
            current = nxt
        return HttpResponse(
            url=current,
            status=resp.status,
            headers=resp.headers,
            body=resp.body,
            permanent_url=current if permanent and len(seen) > 1 else None,
            redirects=tuple(seen[1:]),
        )

    def _one(
        self,
        url: str,
        headers: dict[str, str],
        deadline: float,
        check: ContentTypeCheck | None,
        host_delay_s: float | None,
    ) -> HttpResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("url", f"not an http(s) URL: {url}")
        host = parts.hostname.lower()
        self.gate.acquire(host, deadline, host_delay_s)
        try:
            extensions: dict[str, object] = {"timeout": self._timeout}
            request = httpwire.request(url, {**self._headers, **headers}, extensions)
            with contextlib.closing(self._pool.handle_request(request)) as r:
                h = httpwire.header_dict(r.headers)
                if r.status in (429, 503):
                    wait = retry_after_seconds(h.get("retry-after"))
                    if wait:
                        self.gate.defer(host, wait)
                if not 200 <= r.status < 300:
                    # Redirects, 304, errors: no parsing, so read at most a little.
                    cap = min(ERROR_BODY_CAP, self.settings.max_bytes)
                    return HttpResponse(url, r.status, h, self._read(r, h, deadline, cap, True))
                if check is not None:
                    reason = check(media_type(h.get("content-type", "")))
                    if reason:
                        raise FetchError("content_type", reason)
                length = h.get("content-length", "")
                if length.isdigit() and int(length) > self.settings.max_bytes:
                    raise FetchError(
                        "too_large",
                        f"Content-Length {length} is over the {self.settings.max_bytes}-byte cap",
                    )
                body = self._read(r, h, deadline, self.settings.max_bytes, False)
                return HttpResponse(url, r.status, h, body)
        except BlockedAddress as exc:
            raise FetchError("blocked", str(exc)) from None
        except httpcore.TimeoutException as exc:
            raise FetchError("timeout", f"{type(exc).__name__} fetching {url}") from None
        except _NETWORK_ERRORS as exc:
            raise FetchError("network", f"{type(exc).__name__}: {exc or 'error'} ({url})") from None
        finally:
            self.gate.release(host)

    def _read(
        self,
        r: httpcore.Response,
        headers: Mapping[str, str],
        deadline: float,
        cap: int,
        truncate: bool,
    ) -> bytes:
        inflater = _Inflater(headers.get("content-encoding", ""), cap)
        parts: list[bytes] = []
        wire = 0
        try:
            for chunk in r.iter_stream():
                wire += len(chunk)
                if wire > cap:
                    raise FetchError("too_large", f"body is larger than {cap} bytes")
                parts.append(inflater.feed(chunk))
                if time.monotonic() > deadline:
                    raise FetchError(
                        "timeout",
                        f"body incomplete after {self.settings.total_timeout_s}s (total timeout)",
                    )
        except FetchError as exc:
            if truncate and exc.kind in ("too_large", "encoding"):
                return b"".join(parts)  # an error page: what we have is enough to report
            raise
        return b"".join(parts)
