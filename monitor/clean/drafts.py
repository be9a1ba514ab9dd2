"""The stateless half of cleaning: a `RawItem` in, a `Draft` (or a `Rejected`) out.

`Drafter.draft(raw)` does everything that depends on the item and the config alone:
HTML extraction, text dumps' checks, plain text of feed entries, normalisation, the
line rules, the headline, the date; it also hashes the lines. It keeps no state, so it
runs in worker processes. The per-source templates (`TemplateStore`, learned from
every item) stay with the one `Cleaner` in the daemon's process, which finishes the
draft (`Cleaner.finish`): `Cleaner.clean(raw) == Cleaner.finish(raw, draft(raw))`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import structlog

from monitor.clean.html import Extracted, is_fragment
from monitor.clean.normalize import normalize_text
from monitor.clean.phrases import Phrases, line_key
from monitor.clean.plain import plain_text, plain_title
from monitor.clean.process import ExtractionError, HtmlExtractor
from monitor.clean.sitename import RULE as SITE_RULE
from monitor.clean.sitename import site_keys, strip_site_name
from monitor.clean.templates import line_hash
from monitor.clean.text import LineRules, strip_lines
from monitor.clean.textdate import text_date
from monitor.config import CleanSettings
from monitor.model import Article, Origin, RawItem, Rejected, Removal, stable_id
from monitor.urls import canonical_url

log = structlog.get_logger("monitor.clean")


@dataclass(frozen=True, slots=True)
class Draft:
    """An item cleaned as far as it can be without its source's template."""

    body_hash: int
    """The item's key for template learning (hash of the text it was cleaned from)."""
    line_hashes: tuple[int, ...]
    """The distinct hashes of all its lines (what template learning counts)."""
    kept: tuple[str, ...]
    """Lines kept by the line rules (the template may remove more)."""
    kept_hashes: tuple[int | None, ...]
    """Each kept line's hash (None: a line with no key, never template)."""
    removed: tuple[Removal, ...]
    text: str
    """The article text if the template removes nothing."""
    title: str | None
    """The article title (None: the first line left after the template)."""
    min_chars: int
    chars_in: int
    path: str
    """Which extractor made the text ("text" for text and entries)."""
    dateline: str | None = None
    published: datetime | None = None
    author: str | None = None
    site_name: str | None = None
    language: str | None = None
    warnings: tuple[str, ...] = ()
    url_id: str | None = None
    """The item id its URL gives (`item_id_for`), worked out with the draft: canonicalising
    a URL is the costliest part of an id, and the process that finishes drafts is busy."""
    fallback: Draft | Rejected | None = None
    """An entry with an article page: its own title and text, used if the page is too
    short once its template is removed (decided when the draft is finished)."""


def too_big(value: str, limit: int) -> int | None:
    """Return the size in bytes if `value` exceeds `limit` bytes of UTF-8, else None."""
    # A character is at most 4 bytes: most inputs are decided without encoding.
    if len(value) * 4 <= limit:
        return None
    size = len(value.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


NO_ENTRY_TEXT = "feed entry has neither a title nor any text"


def entry_warnings(raw: RawItem) -> list[str]:
    """An entry's warnings from its connector: why its article page was not fetched."""
    page_error = raw.meta.get("page_error")
    # fetch_pages could not have the page (robots.txt, 404, not HTML, ...).
    return [f"article page not fetched: {page_error}"] if page_error else []


def _site_keys(raw: RawItem, extracted: Extracted | None) -> tuple[str, ...]:
    """What names the item's site: its address, a `.jsonl` host `source`, the outlet an
    aggregator's entry names (RSS `<source>`), the feed's title, the page's site name."""
    feed = raw.meta.get("feed")
    outlet = raw.meta.get("outlet")
    feed = feed if isinstance(feed, dict) else {}
    outlet = outlet if isinstance(outlet, dict) else {}
    urls = [raw.url, raw.source, outlet.get("href")]
    names = [outlet.get("title"), feed.get("title"), extracted.site_name if extracted else None]
    return site_keys(
        (u for u in urls if isinstance(u, str)), (n for n in names if isinstance(n, str))
    )


def _reject(raw: RawItem, reason: str) -> Rejected:
    return Rejected(input_id=raw.input_id, source=raw.source, error=reason)


@dataclass(frozen=True, slots=True)
class RejectedArticle(Rejected):
    """An item rejected for what cleaning left of it: what was left, and what was removed."""

    text: str = ""
    removed: tuple[Removal, ...] = ()


def _id_url(url: str) -> str:
    """The URL an item id is made of: `monitor.urls.canonical_url`, else the URL as given."""
    # One canonicaliser for ids and dedup keys: courlan's strict mode would also drop
    # article parameters (`?story=1` vs `?story=2`) and merge different articles.
    return canonical_url(url) or url.strip()


def item_id_for(url: str | None, guid: str | None, text: str) -> str:
    """Return an item's stable id: of its canonical URL, else its GUID, else its cleaned text."""
    if url and url.strip():
        return stable_id(_id_url(url))
    if guid and guid.strip():
        return stable_id(guid.strip())
    return stable_id(text)


def article_of(
    raw: RawItem,
    draft: Draft,
    kept: Sequence[str],
    template: Sequence[Removal],
    phrases: Phrases,
) -> Article | Rejected:
    """The article a draft makes once `template` (the source's learned lines) is removed."""
    removed: tuple[Removal, ...] = draft.removed + tuple(template)
    text = phrases.repair_glue("\n".join(kept)) if template else draft.text
    if len(text) < draft.min_chars:
        return RejectedArticle(
            input_id=raw.input_id,
            source=raw.source,
            error=f"too little text after cleaning: {len(text)} characters < min_chars "
            f"{draft.min_chars} ({len(removed)} lines removed)",
            text=text,
            removed=removed,
        )
    title = draft.title
    if title is None:
        first = kept[0][:200] if kept else ""
        title = phrases.repair_glue(normalize_text(first))
    meta: dict[str, Any] = dict(raw.meta)
    meta["clean"] = {
        "path": draft.path,
        "chars_in": draft.chars_in,
        "chars_out": len(text),
        "removed": len(removed),
    }
    if draft.warnings:
        meta["warnings"] = [*raw.meta.get("warnings", ()), *draft.warnings]
    return Article(
        # A headline item's id comes from its title when it has no URL or GUID.
        item_id=draft.url_id or item_id_for(raw.url, raw.guid, text or title),
        input_id=raw.input_id,
        source=raw.source,
        title=title,
        text=text,
        url=raw.url,
        guid=raw.guid,
        published=draft.published,
        fetched=raw.fetched,
        author=draft.author,
        site_name=draft.site_name,
        language=draft.language,
        dateline=draft.dateline,
        removed=removed,
        meta=meta,
        origin=raw.origin,
    )


class Drafter:
    """Extraction and text cleaning with the config alone (no learned state)."""

    def __init__(self, phrases: Phrases, settings: CleanSettings, html: HtmlExtractor) -> None:
        self.phrases = phrases
        self.settings = settings
        self.html = html
        self.rules = LineRules(
            head_window=settings.head_window, chrome_max_words=settings.chrome_max_words
        )

    def draft(self, raw: RawItem) -> Draft | Rejected:
        """Draft one item; every failure is a `Rejected` with a specific reason."""
        if raw.title:
            raw = replace(raw, title=plain_title(raw.title))
        if raw.origin is Origin.ENTRY:
            return self._entry(raw)
        return self._document(raw)

    def _entry(self, raw: RawItem) -> Draft | Rejected:
        """A feed entry: its own title and text, however short, or its article page.

        A linked article page (`fetch_pages`, or a `.jsonl` item's `html` page) is used when
        extraction finds at least `min_chars` in it; otherwise the entry's own title and
        text are published, with a warning saying why the page was not used.
        """
        warnings = entry_warnings(raw)
        if raw.html and raw.html.strip() and not is_fragment(raw.html):
            page = self._document(raw)
            if isinstance(page, Draft):
                # Too short once the template is removed? Then the entry is published
                # (with its warnings, known then: `Cleaner.finish` adds them).
                return replace(page, fallback=self._entry_text(raw, [], fallback=True))
            log.warning(
                "clean.page_failed",
                input_id=raw.input_id,
                url=raw.url,
                reason=page.error,
                fallback="feed entry content",
            )
            warnings.append(f"article page not used: {page.error}")
            return self._entry_text(raw, warnings, fallback=True)
        return self._entry_text(raw, warnings, fallback=False)

    def _entry_text(self, raw: RawItem, warnings: list[str], fallback: bool) -> Draft | Rejected:
        content: object
        if fallback:
            content = raw.meta.get("feed_content")
            is_html = raw.meta.get("feed_content_type") == "html"
        elif raw.html and raw.html.strip():
            content, is_html = raw.html, True  # a fragment: the entry's own content
        else:
            content, is_html = raw.text, False
        body = ""
        if isinstance(content, str) and content.strip():
            limit = self.settings.max_input_bytes
            size = too_big(content, limit)
            if size is not None:
                return _reject(raw, f"entry text too big: {size} bytes > max_input_bytes {limit}")
            body = plain_text(content, is_html=is_html)
        if not raw.title and not body:
            why = "; ".join([*warnings, NO_ENTRY_TEXT])
            return _reject(raw, why)
        return self._lines(raw, body, None, min_chars=0, warnings=warnings)

    def _document(self, raw: RawItem) -> Draft | Rejected:
        """A page or text dump: extracted and stripped (too little left: decided at finish)."""
        extracted: Extracted | None = None
        limit = self.settings.max_input_bytes
        if raw.html and raw.html.strip():
            size = too_big(raw.html, limit)
            if size is not None:
                return _reject(raw, f"HTML too big: {size} bytes > max_input_bytes {limit}")
            if is_fragment(raw.html):
                # A feed entry's summary or content: a snippet, not a page to extract from.
                body = plain_text(raw.html, is_html=True)
            else:
                try:
                    extracted = self.html.extract(
                        raw.html, raw.url, find_date=raw.published is None
                    )
                except ExtractionError as exc:
                    return _reject(raw, str(exc))
                if extracted is None:
                    return _reject(
                        raw,
                        "no main text found in the HTML "
                        "(trafilatura, its recall preset and the baseline found none)",
                    )
                body = extracted.text
        elif raw.text and raw.text.strip():
            size = too_big(raw.text, limit)
            if size is not None:
                return _reject(raw, f"text too big: {size} bytes > max_input_bytes {limit}")
            if "\x00" in raw.text:
                return _reject(raw, "text contains NUL bytes: binary content, not a page dump")
            body = raw.text
        else:
            return _reject(raw, "empty item: no text and no HTML")
        return self._lines(raw, body, extracted, min_chars=self.settings.min_chars)

    def _lines(
        self,
        raw: RawItem,
        body: str,
        extracted: Extracted | None,
        *,
        min_chars: int,
        warnings: list[str] | None = None,
    ) -> Draft:
        lines = normalize_text(body).split("\n") if body else []
        # The connector's title (feed entry, jsonl) first, then the page's own:
        # a feed title often differs from the headline printed on the page.
        # The site's name is cut from either ("Headline - Ridgeview 9 News - Ridgeview").
        keys = _site_keys(raw, extracted)
        hints = [
            strip_site_name(t, keys)
            for t in (raw.title, extracted.title if extracted else None)
            if t
        ]
        hint, hint_cut = hints[0] if hints else (None, "")
        stripped = strip_lines(
            lines, self.phrases, normalize_text(hint) if hint else None, self.rules
        )
        if not stripped.headline and len(hints) > 1:
            stripped = strip_lines(lines, self.phrases, normalize_text(hints[1][0]), self.rules)
        given, cut = strip_site_name(plain_title(stripped.title or hint) or "", keys)
        if not cut and hint and given == plain_title(hint):
            cut = hint_cut  # the title is the connector's (or page's), cut before
        removed = (*stripped.removed, Removal(cut.strip(), SITE_RULE)) if cut else stripped.removed
        return Draft(
            body_hash=line_hash(stable_id(body)),
            line_hashes=tuple({line_hash(k) for line in lines if (k := line_key(line))}),
            kept=stripped.kept,
            kept_hashes=tuple(
                line_hash(k) if (k := line_key(line)) else None for line in stripped.kept
            ),
            removed=removed,
            text=self.phrases.repair_glue("\n".join(stripped.kept)),
            title=self.phrases.repair_glue(normalize_text(given)) if given else None,
            min_chars=min_chars,
            chars_in=len(body),
            path=extracted.extractor if extracted else "text",
            dateline=stripped.dateline,
            published=raw.published or self._published(raw, body, extracted),
            author=extracted.author if extracted else None,
            site_name=extracted.site_name if extracted else None,
            language=extracted.language if extracted else None,
            warnings=tuple(warnings or ()),
            url_id=stable_id(_id_url(raw.url)) if raw.url and raw.url.strip() else None,
        )

    def _published(self, raw: RawItem, body: str, extracted: Extracted | None) -> datetime | None:
        """The page's own date: htmldate's for HTML, else a dateline at the top of a text."""
        if extracted is not None:
            return _date(extracted.date)
        s = self.settings
        if not s.text_dates:
            return None
        head = f"{raw.title}\n{body}" if raw.title else body
        return text_date(
            head,
            chars=s.text_date_chars + (len(raw.title) + 1 if raw.title else 0),
            order=s.numeric_date_order,
            not_after=raw.fetched,
        )
