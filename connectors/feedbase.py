"""Run feedparser without the feed's base URL when the base would change nothing.

With a base URL, feedparser re-joins the base at every start tag and joins every link
against it: about a sixth of its time on a plain RSS feed. Most feeds carry only
absolute links, for which the base changes nothing. So a feed is parsed without it,
and the result is checked: if the document can set a base itself (`xml:base`), or
any link, id, or URI attribute in the HTML we read could resolve differently, it is
parsed again with the base. The items are the same either way. `BaseHints`
remembers the feeds that needed the base, so their next polls parse once.
"""

from __future__ import annotations

import functools
import html
import io
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import feedparser
from feedparser.urls import _urljoin, make_safe_absolute_uri

# An attribute named `base` (xml:base, or the loose parser's base=) or a DTD that may
# default one: the document can move the base, so it is always parsed with it.
_SETS_BASE = re.compile(rb"(?i)(?:[\s:]base\s*=|<!ATTLIST)")
# Attributes feedparser's RelativeURIResolver rewrites (any tag: a superset).
_URI_ATTR = re.compile(
    r"(?i)\b(?:href|src|cite|codebase|longdesc|usemap|action|background|profile|classid|data"
    r"|poster)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))"
)
# Every <id>/<guid> start tag (any prefix), and those feedparser does not join with the
# base (isPermaLink not "true"): if they are all of that kind, ids are never resolved.
_ID_TAG = re.compile(rb"(?i)<(?:[\w.-]+:)?(?:id|guid)\b")
_PLAIN_ID_TAG = re.compile(
    rb"(?i)<(?:[\w.-]+:)?(?:id|guid)\b[^>]*?\bispermalink\s*=\s*"
    rb"(?:\"(?!true\")[^\"&]*\"|'(?!true')[^'&]*')"
)
# An absolute http(s) URL that joining leaves exactly as it is, whatever the base: a
# plain host, no empty query or fragment, no params, nothing urlsplit strips or rejects.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[^\x00-\x20?#;\[\]\\]*)?"
    r"(?:\?[^\x00-\x20#]+)?(?:#[^\x00-\x20]+)?\Z"
)
# A URI with its own scheme and no "//" after it (urn:..., tag:...): urlsplit reads
# exactly this scheme (no tab or newline for it to drop), and feedparser's slash
# fixer leaves it alone.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(?!/)[^\t\n\r]*\Z")
_HTML_KEYS = ("title", "summary")
"""Entry values whose HTML feedparser resolves (`resolve_relative_uris`) that items use."""


def parse_with_base(body: bytes, url: str, content_type: str) -> Any:
    """feedparser's parse with `url` as the base, the way a fetched feed is read."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    return _parse(body, headers)


def parse_fast(body: bytes, url: str, content_type: str) -> tuple[Any, bool]:
    """feedparser's parse, without the base URL when that gives the same values.

    Returns the result and whether the base was needed (then it was used).
    """
    if sets_base(body):
        return parse_with_base(body, url, content_type), True
    # An empty Content-Location is no base; the headers stay what they would be with the
    # base, as feedparser's encoding checks look at them (no Content-Type: a bozo warning).
    headers = {"content-location": ""}
    if content_type:
        headers["content-type"] = content_type
    d = _parse(body, headers)
    if needs_base(d, url, body):
        return parse_with_base(body, url, content_type), True
    return d, False


def sets_base(body: bytes) -> bool:
    """Whether the document may set its own base (an xml:base or base attribute, a DTD)."""
    lowered = body.lower()  # one pass in C; the regex runs only on the rare hit
    if b"base" not in lowered and b"attlist" not in lowered:
        return False
    return _SETS_BASE.search(body) is not None


def _parse(body: bytes, headers: Mapping[str, str]) -> Any:
    # A BytesIO, never the bytes: feedparser treats a str/bytes that looks like a URL
    # or path as something to open. The options are feedparser's defaults, given
    # here so no module-level setting elsewhere can change what items contain.
    return feedparser.parse(
        io.BytesIO(body),
        response_headers=dict(headers),
        resolve_relative_uris=True,
        sanitize_html=True,
    )


@functools.lru_cache(maxsize=4096)
def effective_base(url: str) -> str | None:
    """The base feedparser settles on for `url` (None if it would keep moving)."""
    if _PLAIN_URL.match(url) is not None:
        return url  # joins to itself (see _PLAIN_URL): every feed's URL is new on its first poll
    first = make_safe_absolute_uri(url, url) or url
    again = make_safe_absolute_uri(first, first) or first
    return first if again == first else None


def needs_base(d: Mapping[str, Any], url: str, body: bytes | None = None) -> bool:
    """Whether parsing with `url` as the base could change a value our items use.

    A relative id counts only if the document (`body`) may join ids with the base:
    not when every id is a guid with isPermaLink="false".
    """
    base = effective_base(url)
    if base is None:
        return True
    feed = d.get("feed") or {}
    if _html_moves(base, (feed.get("title"),)):
        return True
    moved_id = False
    for e in d.get("entries") or ():
        link, id_ = dict.get(e, "link"), dict.get(e, "id")
        if link and isinstance(link, str) and _joins_to_other(base, link):
            return True
        if not moved_id and id_ and isinstance(id_, str) and id_ != link:
            moved_id = _joins_to_other(base, id_)
        contents = [c.get("value") for c in dict.get(e, "content") or ()]
        if _html_moves(base, [dict.get(e, k) for k in _HTML_KEYS] + contents):
            return True
    return moved_id and (body is None or ids_may_resolve(body))


def ids_may_resolve(body: bytes) -> bool:
    """Whether feedparser may join some id of this document with the base."""
    return len(_ID_TAG.findall(body)) != len(_PLAIN_ID_TAG.findall(body))


def _joins_to_other(base: str, uri: str) -> bool:
    """Whether feedparser's join with the base would change `uri`."""
    if _PLAIN_URL.match(uri) is not None:
        return False
    scheme = _SCHEME.match(uri)
    if scheme is not None and scheme.group(1).lower() != base.split(":", 1)[0]:
        return False  # another scheme (urn:, tag:): urljoin returns it as it is
    return bool(_urljoin(base, uri) != uri)


def _html_moves(base: str, values: Iterable[object]) -> bool:
    """Whether any URI attribute in these (HTML) values would resolve to something else."""
    for value in values:
        if not isinstance(value, str) or "=" not in value:
            continue
        for m in _URI_ATTR.finditer(value):
            uri = m.group(1) if m.group(1) is not None else (m.group(2) or m.group(3) or "")
            if not uri:
                return True
            if _PLAIN_URL.match(uri) is None and make_safe_absolute_uri(base, uri) != uri:
                return True
            if "&" in uri and not _query_entities_only(base, uri):
                return True
    return False


def _query_entities_only(base: str, uri: str) -> bool:
    """Whether an escaped URI (`&amp;`) resolves to itself however it was written.

    The escaped value is not exactly what the resolver saw. It is safe when every `&`
    sits in the query of an absolute http(s) URL (joining copies a query verbatim)
    that resolves to itself both ways.
    """
    question = uri.find("?")
    if not uri.startswith(("http://", "https://")) or not 0 < question < uri.find("&"):
        return False
    plain = html.unescape(uri)
    return bool(make_safe_absolute_uri(base, plain) == plain)


class BaseHints:
    """Which feeds needed their base URL lately: those are parsed with it at once.

    Bounded (the oldest hint goes first) and each hint lasts `ttl_s`, so a feed that
    stopped needing its base is tried without it again. Safe to share between threads.
    """

    def __init__(self, capacity: int = 10_000, ttl_s: float = 86_400.0) -> None:
        self.capacity = capacity
        self.ttl_s = ttl_s
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._until)

    def wants_base(self, feed: str, now: float | None = None) -> bool:
        """Whether `feed` needed its base within the last `ttl_s`."""
        until = self._until.get(feed)
        return until is not None and until > (time.monotonic() if now is None else now)

    def remember(self, feed: str, now: float | None = None) -> None:
        """Note that `feed` needed its base (an unexpired hint is kept as it is)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._until.get(feed, 0.0) > now:
                return
            self._until.pop(feed, None)
            self._until[feed] = now + self.ttl_s
            while len(self._until) > self.capacity:
                del self._until[next(iter(self._until))]
