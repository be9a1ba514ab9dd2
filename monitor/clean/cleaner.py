"""The clean stage: a `RawItem` in, an `Article` (or a `Rejected` with the reason) out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from monitor.clean.html import Extracted, HtmlOptions, is_fragment
from monitor.clean.normalize import normalize_text
from monitor.clean.phrases import Phrases, load_phrases
from monitor.clean.plain import plain_text, plain_title
from monitor.clean.process import ExtractionError, HtmlExtractor
from monitor.clean.templates import TemplateStore
from monitor.clean.text import LineRules, strip_lines
from monitor.clean.textdate import text_date
from monitor.config import CleanSettings, resolve_data
from monitor.model import Article, Origin, RawItem, Rejected, Removal, stable_id
from monitor.urls import canonical_url

log = structlog.get_logger("monitor.clean")


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


def _too_big(value: str, limit: int) -> int | None:
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
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class Cleaner:
    """Strips boilerplate from items: trafilatura for HTML, line rules for text dumps."""

    def __init__(
        self,
        phrases: Phrases,
        settings: CleanSettings,
        html: HtmlExtractor | None = None,
    ) -> None:
        self.phrases = phrases
        self.settings = settings
        self.rules = LineRules(
            head_window=settings.head_window, chrome_max_words=settings.chrome_max_words
        )
        self.templates = TemplateStore(
            settings.template_min_count,
            settings.template_max_lines,
            settings.template_max_total_lines,
        )
        self.html = html or HtmlExtractor(
            html_options(settings), settings.html_timeout_s, settings.html_memory_mb
        )

    @classmethod
    def from_settings(cls, settings: CleanSettings, config_dir: Path) -> Cleaner:
        """Build a cleaner, loading the phrase lists (ConfigError if they are invalid)."""
        path = resolve_data(settings.phrases, config_dir)
        return cls(load_phrases(path), settings)

    def close(self) -> None:
        """Stop the HTML extraction process."""
        self.html.close()

    def __enter__(self) -> Cleaner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def clean(self, raw: RawItem) -> Article | Rejected:
        """Clean one item; every failure is a `Rejected` with a specific reason."""
        if raw.title:
            raw = replace(raw, title=plain_title(raw.title))
        if raw.origin is Origin.ENTRY:
            return self._entry(raw)
        return self._document(raw)

    def _entry(self, raw: RawItem) -> Article | Rejected:
        """A feed entry: published with its own title and text, however short.

        A linked article page (`fetch_pages`, or a `.jsonl` item's `html` page) is used when
        extraction finds at least `min_chars` in it; otherwise the entry's own title and
        text are published, with a warning saying why the page was not used.
        """
        warnings: list[str] = []
        if page_error := raw.meta.get("page_error"):
            # fetch_pages could not have the page (robots.txt, 404, not HTML, ...).
            warnings.append(f"article page not fetched: {page_error}")
        content: object = raw.text
        is_html = False
        if raw.html and raw.html.strip():
            if is_fragment(raw.html):
                content, is_html = raw.html, True
            else:
                page = self._document(raw)
                if isinstance(page, Article):
                    return page
                content = raw.meta.get("feed_content")
                is_html = raw.meta.get("feed_content_type") == "html"
                warnings.append(f"article page not used: {page.error}")
                log.warning(
                    "clean.page_failed",
                    input_id=raw.input_id,
                    url=raw.url,
                    reason=page.error,
                    fallback="feed entry content",
                )
        body = ""
        if isinstance(content, str) and content.strip():
            size = _too_big(content, self.settings.max_input_bytes)
            if size is not None:
                return self._reject(
                    raw,
                    f"entry text too big: {size} bytes > max_input_bytes "
                    f"{self.settings.max_input_bytes}",
                )
            body = plain_text(content, is_html=is_html)
        if not raw.title and not body:
            why = "; ".join([*warnings, "feed entry has neither a title nor any text"])
            return self._reject(raw, why)
        return self._finish(raw, body, None, min_chars=0, warnings=warnings)

    def _document(self, raw: RawItem) -> Article | Rejected:
        """A page or text dump: extracted, stripped, and rejected if too little is left."""
        extracted: Extracted | None = None
        if raw.html and raw.html.strip() and is_fragment(raw.html):
            # A feed entry's summary or content: a snippet, not a page to extract from.
            size = _too_big(raw.html, self.settings.max_input_bytes)
            if size is not None:
                return self._reject(
                    raw,
                    f"HTML too big: {size} bytes > max_input_bytes {self.settings.max_input_bytes}",
                )
            body = plain_text(raw.html, is_html=True)
        elif raw.html and raw.html.strip():
            size = _too_big(raw.html, self.settings.max_input_bytes)
            if size is not None:
                return self._reject(
                    raw,
                    f"HTML too big: {size} bytes > max_input_bytes {self.settings.max_input_bytes}",
                )
            try:
                extracted = self.html.extract(raw.html, raw.url, find_date=raw.published is None)
            except ExtractionError as exc:
                return self._reject(raw, str(exc))
            if extracted is None:
                return self._reject(
                    raw,
                    "no main text found in the HTML "
                    "(trafilatura, its recall preset and the baseline found none)",
                )
            body = extracted.text
        elif raw.text and raw.text.strip():
            size = _too_big(raw.text, self.settings.max_input_bytes)
            if size is not None:
                return self._reject(
                    raw,
                    f"text too big: {size} bytes > max_input_bytes {self.settings.max_input_bytes}",
                )
            if "\x00" in raw.text:
                return self._reject(raw, "text contains NUL bytes: binary content, not a page dump")
            body = raw.text
        else:
            return self._reject(raw, "empty item: no text and no HTML")
        return self._finish(raw, body, extracted, min_chars=self.settings.min_chars)

    def _finish(
        self,
        raw: RawItem,
        body: str,
        extracted: Extracted | None,
        *,
        min_chars: int,
        warnings: Sequence[str] = (),
    ) -> Article | Rejected:
        lines = normalize_text(body).split("\n") if body else []
        # The connector's title (feed entry, jsonl) first, then the page's own:
        # a feed title often differs from the headline printed on the page.
        hints = [t for t in (raw.title, extracted.title if extracted else None) if t]
        hint = hints[0] if hints else None
        stripped = strip_lines(
            lines, self.phrases, normalize_text(hint) if hint else None, self.rules
        )
        if not stripped.headline and len(hints) > 1:
            stripped = strip_lines(lines, self.phrases, normalize_text(hints[1]), self.rules)
        kept, template = self.templates.strip(raw.source, stripped.kept)
        if template and self._mostly_template(kept, template):
            # Most of the item "is template": this is an update or copy of an
            # earlier article of the same source, not page chrome. Keep it all
            # and leave it to dedup.
            kept, template = list(stripped.kept), []
        # Learn after stripping, so this item's own lines never count against it.
        self.templates.learn(raw.source, stable_id(body), lines)
        removed: tuple[Removal, ...] = stripped.removed + tuple(template)
        text = self.phrases.repair_glue("\n".join(kept))
        if len(text) < min_chars:
            return RejectedArticle(
                input_id=raw.input_id,
                source=raw.source,
                error=f"too little text after cleaning: {len(text)} characters < min_chars "
                f"{min_chars} ({len(removed)} lines removed)",
                text=text,
                removed=removed,
            )
        title = plain_title(stripped.title or hint) or (kept[0][:200] if kept else "")
        meta: dict[str, Any] = dict(raw.meta)
        meta["clean"] = {
            "path": extracted.extractor if extracted else "text",
            "chars_in": len(body),
            "chars_out": len(text),
            "removed": len(removed),
        }
        if warnings:
            meta["warnings"] = [*raw.meta.get("warnings", ()), *warnings]
        return Article(
            # A headline item's id comes from its title when it has no URL or GUID.
            item_id=item_id_for(raw.url, raw.guid, text or title),
            input_id=raw.input_id,
            source=raw.source,
            title=self.phrases.repair_glue(normalize_text(title)),
            text=text,
            url=raw.url,
            guid=raw.guid,
            published=raw.published or self._published(raw, body, extracted),
            fetched=raw.fetched,
            author=extracted.author if extracted else None,
            site_name=extracted.site_name if extracted else None,
            language=extracted.language if extracted else None,
            dateline=stripped.dateline,
            removed=removed,
            meta=meta,
            origin=raw.origin,
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

    def _mostly_template(self, kept: list[str], template: list[Removal]) -> bool:
        removed = sum(len(r.text) for r in template)
        return removed > self.settings.template_max_share * (removed + sum(map(len, kept)))

    @staticmethod
    def _reject(raw: RawItem, reason: str) -> Rejected:
        return Rejected(input_id=raw.input_id, source=raw.source, error=reason)


def html_options(settings: CleanSettings) -> HtmlOptions:
    """Return the trafilatura options the settings ask for."""
    return HtmlOptions(
        favor_precision=settings.favor_precision,
        include_comments=False,
        include_tables=settings.include_tables,
        deduplicate=settings.deduplicate,
        date_extensive_search=settings.date_extensive_search,
        fallback_min_chars=settings.fallback_min_chars,
    )
