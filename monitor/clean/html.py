"""HTML pages: trafilatura main text and metadata, a fallback, a time-limited process."""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

STARTUP_TIMEOUT_S = 60.0
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
    """Which path produced the text: trafilatura, trafilatura-recall or baseline."""
    title: str | None = None
    author: str | None = None
    site_name: str | None = None
    date: str | None = None
    """The publish date htmldate found, ISO `YYYY-MM-DD` (trafilatura's form)."""
    language: str | None = None


def _page_language(html: str) -> str | None:
    match = _LANG.search(html[:20000].encode("utf-8", "ignore"))
    return match.group(1).decode("ascii").lower() if match else None


def _metadata(tree: Any, url: str | None, date_params: dict[str, Any]) -> Any:
    """trafilatura's `extract_metadata`, less the fields the project never reads.

    The same steps in the same order for title, author, URL, date and site name;
    categories, tags and license are skipped (about a fifth of the metadata time).
    """
    from html import unescape

    from htmldate import find_date
    from trafilatura.metadata import (
        META_URL,
        examine_meta,
        extract_author,
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
        doc.author = extract_author(tree)
    if not doc.url:
        doc.url = extract_url(tree, url)
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


def extract_html(html: str, url: str | None, options: HtmlOptions) -> Extracted | None:
    """Extract main text and metadata from one page; None when nothing usable is found."""
    import trafilatura  # imported here: the parent process never needs it
    from trafilatura.settings import DEFAULT_CONFIG
    from trafilatura.utils import load_html

    # One parse for both passes (bare_extraction copies a tree it is given, which is
    # cheaper than parsing again); metadata first, as bare_extraction does it, since
    # the main-text pass changes the tree.
    tree = load_html(html, DEFAULT_CONFIG.getint("DEFAULT", "MAX_FILE_SIZE"))
    info: Any = None
    doc: Any = None
    date_params = {"extensive_search": options.date_extensive_search, "original_date": True}
    try:
        info = _metadata(tree, url, date_params) if tree is not None else None
    except (TypeError, ValueError):  # what bare_extraction turns into "no result"
        info = None
    if info is not None:  # else only the fallbacks below may find something
        doc = trafilatura.bare_extraction(
            tree,
            url=url or info.url,
            with_metadata=False,
            favor_precision=options.favor_precision,
            include_comments=options.include_comments,
            include_tables=options.include_tables,
            deduplicate=options.deduplicate,
        )
    text = (getattr(doc, "text", None) or "").strip()
    extractor = "trafilatura"
    if len(text) < options.fallback_min_chars:
        # The chosen preset found (almost) nothing: try recall, then the
        # baseline (JSON-LD articleBody, <article>, <p> text) before giving up.
        recall = trafilatura.extract(
            html,
            url=url,
            favor_recall=True,
            include_comments=False,
            include_tables=options.include_tables,
        )
        if recall and len(recall.strip()) > len(text):
            text, extractor = recall.strip(), "trafilatura-recall"
    if len(text) < options.fallback_min_chars:
        _, base, _ = trafilatura.baseline(html)
        if base and len(base.strip()) > len(text):
            text, extractor = base.strip(), "baseline"
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


def _serve(conn: Connection, options: HtmlOptions, memory_mb: int) -> None:
    """Child process loop: extract each page sent, answer with a result or an error."""
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        # A page that would make lxml eat all memory fails here with
        # MemoryError instead of taking the machine (and the worker) down.
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    import trafilatura  # noqa: F401  (warm up before the first page's clock starts)

    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        html, url = request
        try:
            conn.send(("ok", extract_html(html, url, options)))
        except MemoryError:
            conn.send(("error", f"extraction ran out of memory (limit {memory_mb} MB)"))
        except Exception as exc:  # any failure of a third-party parser is a value
            conn.send(("error", f"extraction failed: {type(exc).__name__}: {exc}"))


class ExtractionError(Exception):
    """Extraction of one page failed (timeout, crash, parser error): the reason is the message."""


class HtmlExtractor:
    """Runs `extract_html` in a child process so a pathological page cannot stall the worker.

    A page that takes longer than `timeout_s` gets its process killed (and a
    new one started for the next page); the caller gets an `ExtractionError`.
    Thread-safe: calls are serialised on one child process.
    """

    def __init__(self, options: HtmlOptions, timeout_s: float, memory_mb: int) -> None:
        self.options = options
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self.restarts = 0

    def _start(self) -> Connection:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            return self._conn
        self._stop()
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_serve,
            args=(child, self.options, self.memory_mb),
            name="clean-html",
            daemon=True,
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        # Starting Python and importing trafilatura is not the page's fault:
        # wait for it outside the per-page time limit.
        try:
            ready = parent.poll(STARTUP_TIMEOUT_S) and parent.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop()
            raise ExtractionError("the extraction process did not start")
        return parent

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(timeout=5)
        self._proc, self._conn = None, None

    def extract(self, html: str, url: str | None) -> Extracted | None:
        """Extract one page within the time limit; raise ExtractionError on failure."""
        with self._lock:
            conn = self._start()
            try:
                conn.send((html, url))
                if not conn.poll(self.timeout_s):
                    self._stop()
                    self.restarts += 1
                    raise ExtractionError(f"extraction timed out after {self.timeout_s:g}s")
                status, value = conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                code = self._proc.exitcode if self._proc is not None else None
                self._stop()
                self.restarts += 1
                raise ExtractionError(
                    f"extraction process died (exit code {code}): {type(exc).__name__}"
                ) from None
        if status == "error":
            raise ExtractionError(str(value))
        result: Extracted | None = value
        return result

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
            self._stop()

    def __enter__(self) -> HtmlExtractor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


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
