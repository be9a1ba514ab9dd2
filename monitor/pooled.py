"""The per-item CPU work the worker processes do: feed parsing, drafts, filter verdicts.

Each worker builds what it needs once (`init_worker`: the phrase lists, an HTML
extraction process, the relevance filter) from the settings the daemon loaded. The
daemon's process keeps everything with state: feed state, the sources' templates,
dedup and the outbox. `Preparer` maps a batch of items through the pool
(`prepare(raw) -> Prepared`: the draft, the filters' verdict on it, and its URL and
GUID canonicalised for dedup's identity keys); the daemon finishes each draft with
the source's template (`finish`) in submission order.
`FeedParse` is the feed poller's `parse=` for pooled parsing.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import util
from typing import Literal, Protocol, runtime_checkable

from connectors.feeds import FeedKind, ParsedFeed, parse_feed
from monitor.clean.cleaner import html_options
from monitor.clean.drafts import Draft, Drafter, article_of
from monitor.clean.phrases import load_phrases
from monitor.clean.process import HtmlExtractor
from monitor.config import Settings, resolve_data
from monitor.filters import RelevanceFilter
from monitor.logging import configure_logging
from monitor.model import Article, RawItem, Rejected, Relevance
from monitor.urls import canonical_url
from monitor.workpool import Done, Running, WorkPool

Canonical = tuple[tuple[str, str | None], ...]
"""An item's URL and GUID, each with its canonical form (`monitor.urls.canonical_url`)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a worker made of one item: its draft, the filters' verdict, its canonical URLs.

    `verdict` is on the article the draft makes if the source's template removes none
    of its lines (`fallback_verdict` likewise for an entry's fallback draft); None: no
    filter, or no article. The daemon uses a verdict only for that same article.
    `canonical` holds the item's URL and GUID canonicalised as dedup's identity keys
    want them (whatever the template removes): the costly part of those keys.
    """

    draft: Draft | Rejected
    verdict: Relevance | None = None
    fallback_verdict: Relevance | None = None
    canonical: Canonical = ()


class PreparationFailed(Exception):
    """A worker could not prepare the item (a bug, or the worker died twice on it)."""


# --- in the worker processes --------------------------------------------------------------


@dataclass
class _WorkerStages:
    drafter: Drafter
    relevance: RelevanceFilter | None
    drop: tuple[str, ...]
    """The query parameters identity keys drop from URLs (`monitor.dedup.drop_params`)."""


_stages: _WorkerStages | None = None


def init_worker(
    settings: Settings, no_filter: bool, log_to_stderr: bool, drop: tuple[str, ...]
) -> None:
    """Build the worker's stages once, from the daemon's settings (the pool's initializer).

    `drop`: `monitor.dedup.drop_params(settings.dedup)`, worked out by the daemon (the
    dedup package, numpy and word lists, would cost each worker ~26 MiB to import).
    """
    global _stages
    configure_logging(settings.logging, stream=sys.stderr if log_to_stderr else sys.stdout)
    clean = settings.clean
    html = HtmlExtractor(html_options(clean), clean.html_timeout_s, clean.html_memory_mb)
    # Run at the worker's normal exit (the pool's shutdown): stop its extraction process.
    util.Finalize(None, html.close, exitpriority=10)
    phrases = load_phrases(resolve_data(clean.phrases, settings.config_dir))
    relevance = None
    if not no_filter:
        relevance = RelevanceFilter.from_settings(
            settings.filters, settings.config_dir, settings.config_file
        )
    _stages = _WorkerStages(Drafter(phrases, clean, html), relevance, drop)


def _worker() -> _WorkerStages:
    if _stages is None:
        raise RuntimeError("worker process not initialised (init_worker)")
    return _stages


def prepare(raw: RawItem) -> Prepared:
    """Draft one item, judge the article the draft makes, canonicalise its URL and GUID."""
    stages = _worker()
    draft = stages.drafter.draft(raw)
    if isinstance(draft, Rejected):
        return Prepared(draft)
    canonical = canonical_forms(raw, stages.drop)
    if stages.relevance is None:
        return Prepared(draft, canonical=canonical)
    return Prepared(
        draft,
        _verdict(stages, raw, draft),
        _verdict(stages, raw, draft.fallback) if isinstance(draft.fallback, Draft) else None,
        canonical,
    )


def _verdict(stages: _WorkerStages, raw: RawItem, draft: Draft) -> Relevance | None:
    assert stages.relevance is not None
    article = article_of(raw, draft, draft.kept, (), stages.drafter.phrases)
    return stages.relevance.evaluate(article) if isinstance(article, Article) else None


def canonical_forms(raw: RawItem, drop: tuple[str, ...]) -> Canonical:
    """The item's URL and GUID with their canonical forms, as dedup's identity keys use them."""
    values = [v for v in (raw.url, raw.guid.strip() if raw.guid else None) if v]
    return tuple((v, canonical_url(v, drop)) for v in dict.fromkeys(values))


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """A fetched feed body and what `parse_feed` needs with it."""

    body: bytes
    source: str
    url: str
    content_type: str
    kind: FeedKind
    fetched: datetime
    with_base: bool = False


def parse_document(doc: FeedDocument) -> ParsedFeed | Rejected:
    """`parse_feed` on a fetched document (in a worker)."""
    return parse_feed(
        doc.body,
        source=doc.source,
        url=doc.url,
        content_type=doc.content_type,
        kind=doc.kind,
        fetched=doc.fetched,
        with_base=doc.with_base,
    )


# --- in the daemon's process --------------------------------------------------------------


def start_pool(settings: Settings, no_filter: bool = False) -> WorkPool:
    """`worker.processes` workers, started now (a broken config fails here, not later)."""
    from monitor.dedup import drop_params  # the daemon's process only (see init_worker)

    pool = WorkPool(
        settings.worker.processes,
        initializer=init_worker,
        initargs=(settings, no_filter, _logs_to_stderr(), drop_params(settings.dedup)),
    )
    try:
        pool.start()
    except BaseException:
        pool.close()
        raise
    return pool


def _logs_to_stderr() -> bool:
    return any(
        isinstance(h, logging.StreamHandler) and h.stream is sys.stderr
        for h in logging.getLogger().handlers
    )


class FeedParse:
    """The feed poller's `parse=`: parse fetched bytes in a worker (any thread may call)."""

    def __init__(self, pool: WorkPool) -> None:
        self.pool = pool

    def __call__(
        self,
        body: bytes,
        *,
        source: str,
        url: str,
        content_type: str,
        kind: FeedKind,
        fetched: datetime,
        with_base: bool = False,
    ) -> ParsedFeed | Rejected:
        """Parse one feed document in a worker process."""
        doc = FeedDocument(body, source, url, content_type, kind, fetched, with_base)
        return self.pool.call(parse_document, doc)


Item = RawItem | Rejected
Batch = tuple[Sequence[Item], Running[RawItem, Prepared]]


class Preparer:
    """Maps batches of items through the pool; results come back in submission order."""

    def __init__(self, pool: WorkPool) -> None:
        self.pool = pool

    def start(self, items: Sequence[Item]) -> Batch:
        """Submit the batch's raw items (error values need no work); return at once."""
        raws = [item for item in items if isinstance(item, RawItem)]
        return items, self.pool.start_map(prepare, raws)

    def results(self, batch: Batch) -> Iterator[Prepared | PreparationFailed | None]:
        """One per item, in order: the worker's result (None for an error value)."""
        items, running = batch
        outcomes = running.outcomes()
        for item in items:
            if not isinstance(item, RawItem):
                yield None
                continue
            outcome = next(outcomes)
            if isinstance(outcome, Done):
                yield outcome.value
            else:
                yield PreparationFailed(outcome.error)


@runtime_checkable
class Finisher(Protocol):
    """A clean stage that finishes drafts (`monitor.clean.Cleaner`)."""

    def finish_with(
        self, raw: RawItem, draft: Draft | Rejected
    ) -> tuple[Article | Rejected, Literal["draft", "fallback"] | None]:
        """The article, and which draft made it as drafted (see `Cleaner.finish_with`)."""
        ...


def finish(
    cleaner: Finisher, raw: RawItem, prepared: Prepared
) -> tuple[Article | Rejected, Relevance | None]:
    """The article (template removed, learned from) and the worker's verdict, if it holds."""
    article, used = cleaner.finish_with(raw, prepared.draft)
    if used == "draft":
        return article, prepared.verdict
    if used == "fallback":
        return article, prepared.fallback_verdict
    return article, None
