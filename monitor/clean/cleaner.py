"""The clean stage: a `RawItem` in, an `Article` (or a `Rejected` with the reason) out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import structlog

from monitor.clean.drafts import (
    NO_ENTRY_TEXT,
    Draft,
    Drafter,
    article_of,
    entry_warnings,
)
from monitor.clean.drafts import RejectedArticle as RejectedArticle
from monitor.clean.drafts import item_id_for as item_id_for
from monitor.clean.html import HtmlOptions
from monitor.clean.phrases import Phrases, load_phrases
from monitor.clean.process import HtmlExtractor
from monitor.clean.templates import TemplateStore
from monitor.clean.text import LineRules
from monitor.config import CleanSettings, resolve_data
from monitor.model import Article, RawItem, Rejected, Removal

log = structlog.get_logger("monitor.clean")


class Cleaner:
    """Strips boilerplate from items: trafilatura for HTML, line rules for text dumps.

    `clean(raw) == finish(raw, drafts.draft(raw))`: the draft (stateless, may run in a
    worker process) and the source's learned template (here, one per daemon).
    """

    def __init__(
        self,
        phrases: Phrases,
        settings: CleanSettings,
        html: HtmlExtractor | None = None,
    ) -> None:
        self.phrases = phrases
        self.settings = settings
        self.templates = TemplateStore(
            settings.template_min_count,
            settings.template_max_lines,
            settings.template_max_total_lines,
        )
        self.html = html or HtmlExtractor(
            html_options(settings), settings.html_timeout_s, settings.html_memory_mb
        )
        self.drafts = Drafter(phrases, settings, self.html)

    @property
    def rules(self) -> LineRules:
        """The line rules the drafts use."""
        return self.drafts.rules

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
        return self.finish(raw, self.drafts.draft(raw))

    def finish(self, raw: RawItem, draft: Draft | Rejected) -> Article | Rejected:
        """Remove the source's template from a draft of `raw`, learn from it, make the article.

        An entry's article page that is too short once its template is gone gives way
        to the entry's own title and text (the draft's fallback).
        """
        return self.finish_with(raw, draft)[0]

    def finish_with(
        self, raw: RawItem, draft: Draft | Rejected
    ) -> tuple[Article | Rejected, Literal["draft", "fallback"] | None]:
        """`finish`, and which draft made the article as drafted (None: the template
        removed lines, or no article): what a verdict on the draft's article still fits."""
        if isinstance(draft, Rejected):
            return draft, None
        article, exact = self._finish(raw, draft)
        if not isinstance(article, Rejected) or draft.fallback is None:
            return article, "draft" if exact else None
        log.warning(
            "clean.page_failed",
            input_id=raw.input_id,
            url=raw.url,
            reason=article.error,
            fallback="feed entry content",
        )
        warnings = [*entry_warnings(raw), f"article page not used: {article.error}"]
        fallback = draft.fallback
        if isinstance(fallback, Rejected):
            if fallback.error == NO_ENTRY_TEXT:
                return replace(fallback, error="; ".join([*warnings, NO_ENTRY_TEXT])), None
            return fallback, None
        article, exact = self._finish(raw, replace(fallback, warnings=tuple(warnings)))
        return article, "fallback" if exact else None

    def _finish(self, raw: RawItem, draft: Draft) -> tuple[Article | Rejected, bool]:
        kept, template = self.templates.strip_hashed(raw.source, draft.kept, draft.kept_hashes)
        if template and self._mostly_template(kept, template):
            # Most of the item "is template": this is an update or copy of an
            # earlier article of the same source, not page chrome. Keep it all
            # and leave it to dedup.
            kept, template = list(draft.kept), []
        # Learn after stripping, so this item's own lines never count against it.
        self.templates.learn_hashed(raw.source, draft.body_hash, draft.line_hashes)
        return article_of(raw, draft, kept, template, self.phrases), not template

    def _mostly_template(self, kept: list[str], template: list[Removal]) -> bool:
        removed = sum(len(r.text) for r in template)
        return removed > self.settings.template_max_share * (removed + sum(map(len, kept)))


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
