"""OPML feed lists: the outlines of a file as sources, and sources as OPML 2.0.

Feed readers and monitors exchange their feed lists as OPML. Parsing is safe: no
network, no DTD, no entity expansion. Outlines nest (folders, categories); each
one with an `xmlUrl` is a feed, and every outline that cannot become a source is
reported with its line, never dropped silently. Pure functions over bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml import etree


class OpmlError(ValueError):
    """The file is not OPML we can read (one line: what and where)."""


@dataclass(frozen=True)
class Feed:
    """One feed outline: the source it becomes, and where it was in the file."""

    name: str
    url: str
    kind: str = "auto"
    line: int = 0
    category: str = ""
    """The folders it was in, outermost first, joined by ' / '."""

    def entry(self) -> dict[str, Any]:
        """The `sources:` entry of the config for this feed."""
        return {"name": self.name, "url": self.url, "kind": self.kind}


@dataclass
class Parsed:
    """The feeds of an OPML file, and why any other outline is not one."""

    feeds: list[Feed] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _attr(el: etree._Element, name: str) -> str:
    """An attribute by name, whatever its case (`xmlUrl`, `xmlurl`), stripped."""
    for key, value in el.attrib.items():
        if str(key).lower() == name.lower():
            return " ".join(str(value).split())
    return ""


def _kind(el: etree._Element) -> str:
    """A source kind from the outline's `version` or `type`; `type="rss"` says nothing."""
    version = _attr(el, "version").lower()
    if version.startswith("atom"):
        return "atom"
    if version.startswith("rss"):
        return "rss"
    if "json" in (version, _attr(el, "type").lower()):
        return "json"
    return "auto"


def parse_opml(data: bytes) -> Parsed:
    """The feeds in an OPML document; raise `OpmlError` if it is not one."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise OpmlError("has a <!DOCTYPE>: refused (OPML needs none; a DTD can declare entities)")
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise OpmlError(f"the root element is <{root.tag}>, not <opml>")
    body = [c for c in root if isinstance(c.tag, str) and c.tag.lower() == "body"]
    if not body:
        raise OpmlError("no <body> element")
    out = Parsed()
    _walk(body[0], (), out)
    return out


def _walk(parent: etree._Element, folders: tuple[str, ...], out: Parsed) -> None:
    for el in parent:
        if not isinstance(el.tag, str) or el.tag.lower() != "outline":
            continue
        label = _attr(el, "title") or _attr(el, "text")
        url = _attr(el, "xmlUrl")
        children = [c for c in el if isinstance(c.tag, str) and c.tag.lower() == "outline"]
        where = f"line {el.sourceline}: outline {label or '(untitled)'!r}"
        if url:
            if not url.lower().startswith(("http://", "https://")):
                out.skipped.append(f"{where}: xmlUrl {url!r} is not an http:// or https:// URL")
            else:
                name = label or urlsplit(url).hostname or url
                out.feeds.append(
                    Feed(name, url, _kind(el), el.sourceline or 0, " / ".join(folders))
                )
        elif not children:
            out.skipped.append(f"{where}: no xmlUrl (not a feed) and no outlines in it")
        _walk(el, (*folders, label) if label else folders, out)


def url_key(url: str) -> str:
    """A URL compared for sameness: scheme and host in lower case, no fragment."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path or '/'}{query}"


@dataclass
class Merge:
    """What importing feeds into a config adds, renames and leaves out (and why)."""

    added: list[dict[str, Any]] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)


def merge_feeds(existing: Sequence[Mapping[str, Any]], feeds: Iterable[Feed]) -> Merge:
    """The new sources among `feeds`: a URL already configured (or seen) is left out;
    a name already taken gets a `-2`, `-3` ... suffix. Nothing existing changes."""
    urls = {url_key(str(s.get("url", ""))): str(s.get("name", "")) for s in existing}
    names = {str(s.get("name", "")) for s in existing}
    out = Merge()
    for feed in feeds:
        key = url_key(feed.url)
        if key in urls:
            out.present.append(f"line {feed.line}: {feed.url} is already source {urls[key]!r}")
            continue
        name = feed.name
        n = 2
        while name in names:
            name, n = f"{feed.name}-{n}", n + 1
        if name != feed.name:
            out.renamed.append(f"line {feed.line}: {feed.name!r} is taken: named {name!r}")
        entry = {**feed.entry(), "name": name}
        out.added.append(entry)
        urls[key], names = name, names | {name}
    return out


def render_opml(sources: Iterable[Mapping[str, Any]], title: str) -> bytes:
    """OPML 2.0 listing the sources (name, url, kind), one outline each."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    versions = {"rss": "RSS", "atom": "ATOM", "json": "JSON"}
    for source in sources:
        name = str(source["name"])
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": str(source["url"])}
        version = versions.get(str(source.get("kind", "auto")))
        if version:
            attrs["version"] = version
        etree.SubElement(body, "outline", attrs)
    etree.indent(root, space="  ")
    xml = etree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}\n'.encode()
