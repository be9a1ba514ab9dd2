"""Fetch the article page a feed entry links to, politely (robots.txt) and safely.

A page that cannot be fetched (robots.txt says no, 404, not HTML, too big, ...)
never loses the entry: the feed's own item is kept, with `meta['page_error']`. A page
that is fetched keeps the entry's content in `meta['feed_content']` (and its
`feed_content_type`, html or text): the clean stage falls back to it when extraction fails.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from protego import Protego

from connectors.http import FetchError, PoliteClient
from monitor.model import RawItem, Rejected

PAGE_TYPES = ("text/html", "application/xhtml+xml")
ROBOTS_CAP = 512 * 1024
"""Google reads the first 500 KiB of a robots.txt; so do we."""
ROBOTS_RETRY_S = 600.0
"""How long an unreachable robots.txt (5xx, network error) blocks a host before we ask again."""
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def page_content_type(media: str) -> str | None:
    """Refuse anything but HTML for article pages."""
    if media in PAGE_TYPES:
        return None
    return f"article page is {media or 'of no declared type'}, not HTML"


def decode_html(body: bytes, content_type: str) -> str:
    """Decode an HTML body: charset from the header, else from a <meta>, else UTF-8."""
    candidates = []
    m = re.search(r"charset\s*=\s*\"?([\w.:-]+)", content_type, re.I)
    if m:
        candidates.append(m.group(1))
    mm = _META_CHARSET.search(body[:4096])
    if mm:
        candidates.append(mm.group(1).decode("ascii", "replace"))
    for enc in candidates:
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class _Robots:
    parser: Protego | None
    """None: robots.txt unreachable, so everything is disallowed for now."""
    expires: float
    error: str | None = None
    """Why robots.txt could not be read (when `parser` is None)."""


class RobotsCache:
    """robots.txt per origin, fetched once and kept for `ttl_s` (RFC 9309 semantics)."""

    def __init__(self, client: PoliteClient, user_agent: str, ttl_s: float) -> None:
        self._client = client
        self._agent = user_agent.split("/", 1)[0]
        self._ttl = ttl_s
        self._cache: dict[str, _Robots] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def check(self, url: str) -> tuple[str | None, float | None]:
        """(why `url` may not be fetched, or None; the site's crawl delay, if any)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch of robots.txt per origin, however many threads ask
            entry = self._cache.get(origin)
            if entry is None or entry.expires < time.monotonic():
                entry = self._fetch(origin)
                self._cache[origin] = entry
        if entry.parser is None:
            if entry.error and entry.error.startswith("blocked:"):
                return entry.error, None  # the address itself is refused, not robots.txt
            why = f" ({entry.error})" if entry.error else ""
            return f"robots.txt of {origin} is unreachable{why}: not fetching pages there now", None
        if not entry.parser.can_fetch(url, self._agent):
            return f"robots.txt of {origin} disallows {url}", None
        delay = entry.parser.crawl_delay(self._agent)
        return None, float(delay) if delay else None

    def _fetch(self, origin: str) -> _Robots:
        now = time.monotonic()
        try:
            r = self._client.get(origin + "/robots.txt", accept="text/plain")
        except FetchError as exc:
            return _Robots(None, now + ROBOTS_RETRY_S, f"{exc.kind}: {exc}")
        if 200 <= r.status < 300:
            text = r.body[:ROBOTS_CAP].decode("utf-8", "replace")
            return _Robots(Protego.parse(text), now + self._ttl)
        if 400 <= r.status < 500:
            # RFC 9309: a robots.txt that is "unavailable" (4xx) means no restrictions.
            return _Robots(Protego.parse(""), now + self._ttl)
        return _Robots(None, now + ROBOTS_RETRY_S, f"HTTP {r.status}")


class PageFetcher:
    """Replace a feed item's summary with its full article page, where allowed."""

    def __init__(self, client: PoliteClient, robots: RobotsCache) -> None:
        self._client = client
        self._robots = robots

    def enrich(self, item: RawItem) -> RawItem:
        """The item with `html` = its article page, or unchanged with `meta['page_error']`."""
        if not item.url:
            return self._keep(item, "entry has no link")
        refusal, crawl_delay = self._robots.check(item.url)
        if refusal:
            return self._keep(item, refusal)
        try:
            r = self._client.get(
                item.url,
                accept="text/html,application/xhtml+xml;q=0.9",
                content_type_check=page_content_type,
                host_delay_s=crawl_delay,
            )
        except FetchError as exc:
            return self._keep(item, f"{exc.kind}: {exc}")
        if r.status != 200:
            return self._keep(item, f"HTTP {r.status} from {r.url}")
        html = decode_html(r.body, r.headers.get("content-type", ""))
        meta = {
            **item.meta,
            "page": {"url": r.url, "status": r.status},
            "feed_content": item.html or item.text,
            "feed_content_type": "html" if item.html else "text",
        }
        return replace(item, html=html, text=None, meta=meta)

    def items(self, items: Iterable[RawItem | Rejected]) -> Iterator[RawItem | Rejected]:
        """Enrich every item in turn (errors pass through untouched)."""
        for item in items:
            yield self.enrich(item) if isinstance(item, RawItem) else item

    @staticmethod
    def _keep(item: RawItem, reason: str) -> RawItem:
        return replace(item, meta={**item.meta, "page_error": reason})
