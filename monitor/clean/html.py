"""HTML pages: trafilatura main text and metadata, a fallback (run in `process.HtmlExtractor`)."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from monitor.clean import passes
from monitor.clean.byline import find_author
from monitor.clean.choice import (
    keep_precise,
    may_need_full_pass,
    needs_default,
    needs_full_pass,
)
from monitor.clean.passes import Pruned, prune

_LANG = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)", re.I)


@dataclass(frozen=True, slots=True)
class HtmlOptions:
    """trafilatura options for the project's HTML path (see docs/clean.md for why)."""

    favor_precision: bool = False
    include_comments: bool = False
    include_tables: bool = True
    deduplicate: bool = False
    date_extensive_search: bool = False
    """htmldate's free-text date search: slow, and feeds usually carry the date anyway."""
    fallback_min_chars: int = 200
    """A result shorter than this is retried with the recall preset, then the baseline."""


@dataclass(frozen=True, slots=True)
class Extracted:
    """Main text and metadata found in one page."""

    text: str
    extractor: str
    """Which path produced the text: trafilatura (the configured preset), trafilatura-full
    (the full precise pass, run when the fast one dropped the article's headings),
    trafilatura-default (the default preset, chosen over a precise result that was not a
    plausible part of it), trafilatura-recall or baseline."""
    title: str | None = None
    author: str | None = None
    site_name: str | None = None
    date: str | None = None
    """The publish date htmldate found, ISO `YYYY-MM-DD` (trafilatura's form)."""
    language: str | None = None


def _page_language(html: str) -> str | None:
    match = _LANG.search(html[:20000].encode("utf-8", "ignore"))
    return match.group(1).decode("ascii").lower() if match else None


def _metadata(tree: Any, url: str | None, date_params: dict[str, Any] | None) -> Any:
    """trafilatura's `extract_metadata`, less the fields the project never reads.

    The same steps in the same order for title, author, URL, date and site name;
    categories, tags and license are skipped (about a fifth of the metadata time), and
    the date when `date_params` is None (the caller knows it). The byline author comes
    from `byline.find_author`: trafilatura's rules without copying the tree.
    """
    from html import unescape

    from htmldate import find_date
    from trafilatura.metadata import (
        META_URL,
        examine_meta,
        extract_meta_json,
        extract_sitename,
        extract_title,
        extract_url,
    )
    from trafilatura.utils import line_processing

    doc = examine_meta(tree)
    if doc.author and " " not in doc.author:
        doc.author = None
    with contextlib.suppress(Exception):  # trafilatura's own guard: bugs in its JSON-LD code
        doc = extract_meta_json(tree, doc)
    if not doc.title:
        doc.title = extract_title(tree)
    if not doc.author:
        doc.author = find_author(tree)  # trafilatura's extract_author, ~3x cheaper
    if not doc.url:
        doc.url = extract_url(tree, url)
    if date_params is not None:
        doc.date = find_date(tree, **{**date_params, "url": doc.url})
    if not doc.sitename:
        doc.sitename = extract_sitename(tree)
    if doc.sitename:
        doc.sitename = doc.sitename.lstrip("@")
        if doc.sitename and "." not in doc.sitename and not doc.sitename[0].isupper():
            doc.sitename = doc.sitename.title()
    elif doc.url and (match := META_URL.match(doc.url)):
        doc.sitename = match[1]
    for name in ("title", "author", "sitename", "date", "url"):  # as Document.clean_and_trim
        value = getattr(doc, name)
        if isinstance(value, str):
            value = value[:9999] + "…" if len(value) > 10000 else value
            setattr(doc, name, line_processing(unescape(value)))
    return doc


_LEAD_MIN = 20
"""Shortest text piece taken as the text after a heading (not a date, a link, a label)."""
_LEAD_PIECES = 50
"""Text pieces looked at after a heading, per level: a page of headings and short links
(a table of contents, an archive) costs no more than a few pieces per heading."""


def _after(el: Any) -> Iterator[str | None]:
    """The text pieces after `el` up to its parent's end: its tail, then each next sibling's
    text (not a comment's) and tail, in document order."""
    yield el.tail
    for sibling in el.itersiblings():
        if isinstance(sibling.tag, str):  # not a comment or processing instruction
            yield from sibling.itertext()
        yield sibling.tail


def _lead(heading: Any) -> str:
    """The first text piece of `_LEAD_MIN`+ characters after `heading` (within its parent,
    else within up to two enclosing elements), whitespace collapsed; else ''."""
    el = heading
    for _ in range(3):
        for piece in itertools.islice(_after(el), _LEAD_PIECES):
            if piece and len(piece.strip()) >= _LEAD_MIN:
                return " ".join(piece.split())
        el = el.getparent()
        if el is None:
            break
    return ""


def _headings(tree: Any) -> list[tuple[str, str]]:
    """The page's h1-h6 headings as (text, text after it), whitespace collapsed."""
    return [(text, _lead(h)) for h, text in _heading_texts(tree)]


def _heading_texts(tree: Any) -> list[tuple[Any, str]]:
    return [
        (h, " ".join(h.text_content().split()))
        for h in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")
    ]


def _dropped_headings(tree: Any, text: str) -> bool:
    """Whether the fast precise `text` dropped the article's headings (`needs_full_pass`)."""
    found = _heading_texts(tree)
    if not may_need_full_pass([head for _, head in found], text):
        return False  # without computing the text after each heading
    return needs_full_pass([(head, _lead(h)) for h, head in found], text)


def _main_text(
    tree: Any,
    page: Pruned | None,
    url: str | None,
    options: HtmlOptions,
    precise: bool,
    fast: bool | None = None,
) -> tuple[str | None, str]:
    """trafilatura's main text of the parsed page: (None where it found nothing, the text).

    On `page`, the pruned copy every pass shares (`passes.prune`), when the options let
    `passes.text` run trafilatura's steps; else `bare_extraction` (which copies the tree).
    The precise pass is `fast` unless told otherwise: it skips trafilatura's comparison
    with its external extractors (readability, jusText), which costs about 45% of a page
    and changes the precise text on ~6% of pages: nearly all of them short ones, which
    the default pass (with the comparison) is then run for, and pages where it drops the
    article's headings, which the full precise pass is run for (`choice.needs_full_pass`).
    """
    fast = precise if fast is None else fast
    if page is not None:
        found = passes.text(page, url, precise, fast, options.include_tables)
        return found, (found or "").strip()
    import trafilatura

    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        with_metadata=False,
        favor_precision=precise,
        include_comments=options.include_comments,
        include_tables=options.include_tables,
        deduplicate=options.deduplicate,
    )
    text = getattr(doc, "text", None) if doc is not None else None
    return text, (text or "").strip()


def _fallback_text(tree: Any, url: str | None, options: HtmlOptions, text: str) -> tuple[str, str]:
    """Recall preset, then trafilatura's baseline, for a page the presets found ~nothing in."""
    import trafilatura

    extractor = ""
    recall = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_recall=True,
        include_comments=False,
        include_tables=options.include_tables,
    )
    found = (getattr(recall, "text", None) or "").strip()
    if len(found) > len(text):
        text, extractor = found, "trafilatura-recall"
    if len(text) < options.fallback_min_chars:
        _, base, _ = trafilatura.baseline(tree)  # copies the tree it is given
        if base and len(base.strip()) > len(text):
            text, extractor = base.strip(), "baseline"
    return text, extractor


def extract_html(
    html: str, url: str | None, options: HtmlOptions, find_date: bool = True
) -> Extracted | None:
    """Extract main text and metadata from one page; None when nothing usable is found.

    `find_date=False` skips htmldate (~1.3 ms a page): for a page whose feed gave its date.
    """
    from trafilatura.settings import DEFAULT_CONFIG
    from trafilatura.utils import load_html

    # One parse for every pass: bare_extraction and baseline copy a tree they are
    # given (cheaper than parsing again); metadata first, on the tree as parsed.
    tree = load_html(html, DEFAULT_CONFIG.getint("DEFAULT", "MAX_FILE_SIZE"))
    if tree is None:
        return None
    info: Any = None
    doc: Any = None
    date_params: dict[str, Any] | None = None
    if find_date:
        date_params = {"extensive_search": options.date_extensive_search, "original_date": True}
    try:
        info = _metadata(tree, url, date_params)
    except (TypeError, ValueError):  # what bare_extraction turns into "no result"
        info = None
    text, extractor = "", "trafilatura"
    if info is not None:  # else only the fallbacks below may find something
        page_url = url or info.url
        # trafilatura's own steps on one pruned copy, unless an option needs its whole path
        page = None if options.include_comments or options.deduplicate else prune(tree, html)
        doc, text = _main_text(tree, page, page_url, options, options.favor_precision)
        if options.favor_precision and not needs_default(text) and _dropped_headings(tree, text):
            # The fast pass kept the article but dropped its headings (and often the
            # lists and sections under them): the full precise pass keeps them.
            doc, text = _main_text(tree, page, page_url, options, True, fast=False)
            extractor = "trafilatura-full"
        if options.favor_precision and needs_default(text):
            # A short precise text may be a wrong block or a cut article: compare.
            default_doc, default = _main_text(tree, page, page_url, options, False)
            if not keep_precise(text, default):
                doc, text, extractor = default_doc, default, "trafilatura-default"
    if len(text) < options.fallback_min_chars:
        found, fallback = _fallback_text(tree, url, options, text)
        if fallback:
            text, extractor = found, fallback
    if not text:
        return None

    def meta(name: str) -> str | None:
        # As before: no metadata when the main-text pass found nothing (a fallback's text).
        value = getattr(info, name, None) if doc is not None else None
        return str(value).strip() or None if value else None

    return Extracted(
        text=text,
        extractor=extractor,
        title=meta("title"),
        author=meta("author"),
        site_name=meta("sitename"),
        date=meta("date"),
        language=meta("language") or _page_language(html),
    )


_FRAGMENT_BLOCKS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "tr", "table", "section", "article", "figure", "figcaption",
)  # fmt: skip
_PAGE_MARKERS = re.compile(r"<\s*(?:html|body|head)\b|<!doctype\s+html", re.IGNORECASE)


def is_fragment(html: str) -> bool:
    """Whether `html` is a snippet (a feed entry's summary or content), not a whole page."""
    # The whole text is searched: pages that open with kilobytes of scripts, styles
    # or PHP warnings before <html> are pages (3 of the 990 of trafilatura's
    # evaluation set put the marker past 4 KB, and were cleaned as snippets).
    return _PAGE_MARKERS.search(html) is None


def fragment_text(html: str) -> str:
    """The text of an HTML snippet, one line per block (main-text extraction needs a page)."""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # lxml raises several types on broken markup; fall back to raw text
        return re.sub(r"<[^>]+>", " ", html)
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for el in root.iter(*_FRAGMENT_BLOCKS):
        el.tail = "\n" + (el.tail or "")
    text: str = root.text_content()
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
