"""Parse RSS 0.9x/1.0/2.0, Atom and JSON Feed bytes into `RawItem`s (pure, no I/O).

XML feeds go through feedparser (from bytes, never from a URL or path); JSON Feed
(which feedparser does not read) is parsed here. A feed that cannot be read is
returned as a `Rejected` value with a specific reason, never raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from connectors.feedbase import parse_fast, parse_with_base
from monitor.model import Origin, RawItem, Rejected, stable_id, utcnow

FeedKind = Literal["auto", "rss", "atom", "json"]
HTML_TYPES = ("text/html", "application/xhtml+xml")

# The same declaration pattern feedparser uses, but unanchored: we must see at
# least every declaration feedparser (or expat) will honour.
_ENTITY_DECL = re.compile(rb"<!ENTITY([^>]*?)>")
_FIRST_ELEMENT = re.compile(rb"<\w")
_ENTITY_VALUE = re.compile(rb"""^\s+\w+\s+(?:"([^"]*)"|'([^']*)')\s*$""")
_CHAR_REF = re.compile(rb"^&#\w+;$")
MAX_ENTITY_VALUE = 16
"""Longest internal entity value kept: bounds entity expansion to ~5x the input."""


_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
FEED_ROOTS = {"rss", "feed", "rdf", "channel"}
"""Root elements of feed dialects (`channel`: Microsoft CDF)."""


def root_element(body: bytes) -> str | None:
    """The local name of the document's root element, lower-cased (None if not found)."""
    m = _ROOT.search(_COMMENT.sub(b"", body[:65536]))
    return m.group(1).decode("ascii").lower() if m else None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """One parsed feed document: its metadata, and one item (or error) per entry."""

    title: str | None
    version: str
    items: list[RawItem | Rejected] = field(default_factory=list)
    ttl_s: float | None = None
    """RSS <ttl> (minutes in the feed), in seconds."""
    warning: str | None = None
    """What the parser could not fully understand (feedparser's bozo), if anything."""
    needed_base: bool = False
    """Parsed with the feed's URL as the base (it sets xml:base or has relative links)."""


def defuse_entities(body: bytes) -> tuple[bytes, int]:
    """Drop internal entity declarations that could amplify (billion laughs, quadratic blowup).

    feedparser keeps "safe" entities (no `&` in the value) but its loose parser
    then expands them without limit: one 40 KB entity referenced 20,000 times
    makes an 800 MB title. We keep only short literal values (`&nbsp;`-style).
    """
    m = _FIRST_ELEMENT.search(body)
    end = m.start() if m else len(body)
    head = body[:end]
    if b"<!ENTITY" not in head:
        return body, 0
    dropped = 0

    def keep_or_drop(decl: re.Match[bytes]) -> bytes:
        nonlocal dropped
        value = _ENTITY_VALUE.match(decl.group(1))
        literal = (
            value.group(1)
            if value and value.group(1) is not None
            else (value.group(2) if value else None)
        )
        if (
            literal is not None
            and len(literal) <= MAX_ENTITY_VALUE
            and (_CHAR_REF.match(literal) or not (b"&" in literal or b"%" in literal))
        ):
            return decl.group(0)
        dropped += 1
        return b""

    return _ENTITY_DECL.sub(keep_or_drop, head) + body[end:], dropped


def sniff_kind(body: bytes, content_type: str) -> Literal["json", "xml", "html"]:
    """Guess what a body is from its first bytes (and the declared type as a tie-break)."""
    start = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"{") or (content_type.endswith("json") and not start.startswith(b"<")):
        return "json"
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "xml"


def parse_feed(
    body: bytes,
    *,
    source: str,
    url: str,
    content_type: str = "",
    kind: FeedKind = "auto",
    fetched: datetime | None = None,
    with_base: bool = False,
) -> ParsedFeed | Rejected:
    """Parse one feed document; entries become `RawItem`s, bad entries `Rejected`s.

    `with_base`: parse XML with the URL as the base at once (`BaseHints` says it is needed).
    """
    fetched = fetched or utcnow()
    feed_id = f"feed:{source}"
    if not body.strip():
        return Rejected(feed_id, source, f"empty response body from {url}")
    sniffed = sniff_kind(body, content_type)
    if kind == "json" or (kind == "auto" and sniffed == "json"):
        return parse_json_feed(body, source=source, url=url, fetched=fetched)
    if sniffed == "html":
        return Rejected(
            feed_id,
            source,
            f"{url} returned an HTML page, not a feed (Content-Type {content_type or 'none'})",
        )
    return parse_xml_feed(
        body,
        source=source,
        url=url,
        content_type=content_type,
        fetched=fetched,
        with_base=with_base,
    )


def parse_xml_feed(
    body: bytes,
    *,
    source: str,
    url: str,
    content_type: str = "",
    fetched: datetime | None = None,
    with_base: bool = False,
) -> ParsedFeed | Rejected:
    """Parse RSS/Atom/RDF bytes with feedparser (without the base URL when it changes nothing)."""
    fetched = fetched or utcnow()
    body, dropped = defuse_entities(body)
    try:
        if with_base:
            d, needed_base = parse_with_base(body, url, content_type), True
        else:
            d, needed_base = parse_fast(body, url, content_type)
    except Exception as exc:  # feedparser promises not to raise; a bug must not stop the worker
        return Rejected(
            f"feed:{source}", source, f"feed parser failed: {type(exc).__name__}: {exc}"
        )
    warning = None
    if d.get("bozo"):
        bozo = d.get("bozo_exception")
        warning = f"{type(bozo).__name__}: {bozo}" if bozo is not None else "not well-formed"
    if dropped:
        warning = f"{dropped} unsafe entity declaration(s) removed; {warning or 'ok'}"
    version = d.get("version") or ""
    feed = d.get("feed", {})
    if not version and not d.entries:
        # No known version is fine (CDF, odd dialects) if the document parsed, has a
        # feed-like root and said something; any other XML is not a feed.
        root = root_element(body)
        if d.get("bozo") or not feed or root not in FEED_ROOTS:
            reason = warning or f"no feed elements found (root element <{root or '?'}>)"
            return Rejected(f"feed:{source}", source, f"{url} is not a readable feed: {reason}")
    meta_feed = {"name": source, "url": url, "title": feed.get("title"), "version": version}
    items = [_xml_entry(e, i, source, meta_feed, fetched) for i, e in enumerate(d.entries)]
    ttl = feed.get("ttl")
    ttl_s = float(ttl) * 60 if isinstance(ttl, str) and ttl.strip().isdigit() else None
    return ParsedFeed(feed.get("title"), version or "unknown", items, ttl_s, warning, needed_base)


def _struct_to_dt(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        y, mo, da, h, mi, se = (int(v) for v in value[:6])
        return datetime(y, mo, da, h, mi, se, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _xml_entry(
    e: Mapping[str, Any], index: int, source: str, meta_feed: Mapping[str, Any], fetched: datetime
) -> RawItem | Rejected:
    # _raw (a plain dict lookup): FeedParserDict.get aliases none of these keys, slowly.
    summary = _raw(e, "summary") or None
    summary_type = (_raw(e, "summary_detail") or {}).get("type", "text/html")
    body, body_type = summary, summary_type
    for content in _raw(e, "content") or ():
        if content.get("value"):
            body, body_type = content["value"], content.get("type", "text/html")
            break
    link = _raw(e, "link") or None
    guid = _raw(e, "id") or None
    title = _raw(e, "title") or None
    # RSS <source>: the outlet an aggregator (Google News, ...) took the entry from.
    origin = _raw(e, "source") or {}
    outlet = {k: v for k in ("title", "href") if isinstance(v := origin.get(k), str) and v}
    return _item(
        source=source,
        index=index,
        guid=guid,
        url=link,
        title=title,
        summary=summary,
        body=body,
        is_html=body_type in HTML_TYPES,
        published=_struct_to_dt(_raw(e, "published_parsed") or _raw(e, "updated_parsed")),
        meta_feed=meta_feed,
        fetched=fetched,
        outlet=outlet,
    )


def _item(
    *,
    source: str,
    index: int,
    guid: str | None,
    url: str | None,
    title: str | None,
    summary: str | None,
    body: str | None,
    is_html: bool,
    published: datetime | None,
    meta_feed: Mapping[str, Any],
    fetched: datetime,
    outlet: Mapping[str, str] | None = None,
) -> RawItem | Rejected:
    key = entry_key(guid, url, title, body)
    if key is None:
        return Rejected(
            f"{source}#entry{index}", source, "feed entry has no id, link, title or text"
        )
    return RawItem(
        input_id=key,
        source=source,
        text=None if is_html else body,
        html=body if is_html else None,
        title=title,
        url=url,
        guid=guid,
        published=published,
        fetched=fetched,
        meta={
            "summary": summary,
            "feed": meta_feed,
            "entry_key": key,
            **({"outlet": dict(outlet)} if outlet else {}),
        },
        origin=Origin.ENTRY,
    )


def entry_key(guid: str | None, url: str | None, title: str | None, body: str | None) -> str | None:
    """The stable key of a feed entry: its GUID, else its link, else a hash of its text."""
    if guid:
        return guid
    if url:
        return url
    if title or body:
        return "sha:" + stable_id(title or "", body or "")
    return None


def parse_json_feed(
    body: bytes, *, source: str, url: str, fetched: datetime | None = None
) -> ParsedFeed | Rejected:
    """Parse a JSON Feed (https://jsonfeed.org, versions 1 and 1.1)."""
    fetched = fetched or utcnow()
    feed_id = f"feed:{source}"
    try:
        doc = orjson.loads(body.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        return Rejected(feed_id, source, f"{url} is not valid JSON: {exc}")
    if not isinstance(doc, dict):
        return Rejected(feed_id, source, f"{url}: a JSON Feed must be an object")
    version = doc.get("version")
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        return Rejected(feed_id, source, f"{url}: JSON without a JSON Feed 'version' ({version!r})")
    items = doc.get("items")
    if not isinstance(items, list):
        return Rejected(feed_id, source, f"{url}: JSON Feed has no 'items' list")
    title = doc.get("title") if isinstance(doc.get("title"), str) else None
    flavour = "json" + version.rsplit("/", 1)[-1]
    meta_feed = {"name": source, "url": url, "title": title, "version": flavour}
    out: list[RawItem | Rejected] = []
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            out.append(Rejected(f"{source}#entry{i}", source, "JSON Feed item is not an object"))
            continue
        raw_id = it.get("id")
        guid = str(raw_id) if isinstance(raw_id, (str, int, float)) and raw_id != "" else None
        link = _str(it.get("url")) or _str(it.get("external_url"))
        html, text = _str(it.get("content_html")), _str(it.get("content_text"))
        summary = _str(it.get("summary"))
        body_value = html or text or summary
        out.append(
            _item(
                source=source,
                index=i,
                guid=guid,
                url=link,
                title=_str(it.get("title")),
                summary=summary,
                body=body_value,
                is_html=bool(html),
                published=_iso(it.get("date_published") or it.get("date_modified")),
                meta_feed=meta_feed,
                fetched=fetched,
            )
        )
    return ParsedFeed(title, flavour, out)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def _raw(entry: Mapping[str, Any], key: str) -> Any:
    # dict.get skips FeedParserDict's deprecated updated->published key aliasing.
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
