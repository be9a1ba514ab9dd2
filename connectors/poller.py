"""Poll configured feeds: conditional GET, parse, hand on only new entries, keep state.

A poll has two halves. `poll()` does the network work (feed, then article pages
for new entries), may run in any worker thread, and returns a typed `PollOutcome`.
`deliver()` hands the outcome's items to the consumer one by one and marks each entry
seen only *after* the consumer has taken it, then saves the feed's new state: a crash
mid-way loses nothing (the feed is fetched again, already-delivered entries are skipped).
The state's changes are `FeedState` transitions (`connectors.feedstate`).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import islice, zip_longest
from pathlib import Path
from queue import SimpleQueue
from urllib.parse import urlsplit

import structlog

from connectors.feedbase import BaseHints
from connectors.feeds import ParsedFeed, parse_feed
from connectors.feedstate import FeedState, FeedStateStore
from connectors.http import FetchError, HttpResponse, PoliteClient
from connectors.pages import PageFetcher, RobotsCache
from connectors.polls import PollError, PollOutcome, PollStatus
from monitor.config import Settings, SourceSettings
from monitor.model import RawItem, Rejected, WorkerStopped, utcnow

log = structlog.get_logger(__name__)


ParseFeed = Callable[..., ParsedFeed | Rejected]
"""Parses fetched feed bytes: `parse_feed`, or `monitor.pooled.FeedParse` (in a worker)."""


FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.I)


def feed_content_type(media: str) -> str | None:
    """Refuse bodies that cannot be a feed (images, PDFs, archives...) before reading them."""
    if not media or media.startswith("text/"):
        return None  # text/html is sniffed after reading: some servers mislabel feeds
    if any(word in media for word in ("xml", "rss", "atom", "rdf", "json")):
        return None
    if media in ("application/octet-stream", "binary/octet-stream"):
        return None
    return f"feed is served as {media}, not XML or JSON"


def cache_max_age(headers: Mapping[str, str]) -> float | None:
    """Cache-Control max-age in seconds, if the response allows caching at all."""
    value = headers.get("cache-control", "")
    if not value or "no-store" in value.lower() or "no-cache" in value.lower():
        return None
    m = _MAX_AGE.search(value)
    return float(m.group(1)) if m else None


def interleave_hosts(sources: Iterable[SourceSettings]) -> list[SourceSettings]:
    """Order sources round-robin by host, so workers do not all queue on one busy host."""
    by_host: dict[str, list[SourceSettings]] = {}
    for s in sources:
        by_host.setdefault((urlsplit(s.url).hostname or "").lower(), []).append(s)
    rounds = zip_longest(*by_host.values())
    return [s for batch in rounds for s in batch if s is not None]


def is_overflow(state: FeedState, listed: int, seen: int) -> bool:
    """Whether a poll suggests missed entries: a feed read before lists 2+ entries, none seen.

    A feed keeps only its latest N entries; when more than N appear between two polls,
    the oldest of them are gone before the worker asks. None of the listed entries being
    known is the sign (with one entry listed it says nothing). It is a hint, not proof:
    a feed that replaced its whole list (a new feed behind the same URL) looks the same.
    """
    return state.last_success is not None and state.items_seen > 0 and listed >= 2 and seen == 0


class FeedPoller:
    """Every configured feed source, with one shared client and one state store."""

    def __init__(
        self, settings: Settings, state_db: Path | None = None, parse: ParseFeed = parse_feed
    ) -> None:
        self.settings = settings
        self.parse = parse
        """Parses fetched bytes (`parse_feed` here; `monitor.pooled.FeedParse`: in a worker)."""
        self._closed = False
        self.sources = {s.name: s for s in settings.sources}
        self.store = FeedStateStore(
            state_db or settings.resolve(settings.state.path),
            entry_retention=timedelta(days=settings.schedule.entry_retention_days),
        )
        self.store.note_absent(self.sources)  # new feeds' first polls read nothing
        self.client = PoliteClient(settings.http)
        robots = RobotsCache(self.client, settings.http.user_agent, settings.http.robots_cache_s)
        self.pages = PageFetcher(self.client, robots)
        self.base_hints = BaseHints()
        """Feeds that needed their base URL lately (parsed with it at once)."""

    def close(self) -> None:
        """Close the HTTP client and the state store."""
        self._closed = True
        self.client.close()
        self.store.close()

    def __enter__(self) -> FeedPoller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def poll_once(self) -> Iterator[PollOutcome]:
        """Poll every configured source once, `http.pool_size` at a time; yield as they finish.

        Hand each outcome's items on with `deliver()`, which also saves the feed's state.
        """
        sources = interleave_hosts(self.sources.values())
        if not sources:
            return
        pool = ThreadPoolExecutor(
            max_workers=min(self.settings.http.pool_size, len(sources)), thread_name_prefix="feed"
        )
        # A sliding window of fetches, not all at once: finished polls wait for the
        # consumer, so memory stays bounded by the window, not by the source count.
        window = 2 * self.settings.http.pool_size
        # Finished polls queue themselves: one cheap get per poll, not a wait() that
        # hooks a waiter onto every running future each time.
        finished: SimpleQueue[Future[PollOutcome]] = SimpleQueue()
        todo = iter(sources)
        running = 0
        for s in islice(todo, window):
            pool.submit(self.poll, s).add_done_callback(finished.put)
            running += 1
        try:
            while running:
                fut = finished.get()
                running -= 1
                nxt = next(todo, None)
                if nxt is not None:
                    pool.submit(self.poll, nxt).add_done_callback(finished.put)
                    running += 1
                yield fut.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def state(self, name: str) -> FeedState | None:
        """The stored state of one source."""
        return self.store.get(name)

    def states(self) -> list[FeedState]:
        """The stored state of every source."""
        return self.store.all()

    # -- the two halves of a poll ---------------------------------------------------

    def deliver(self, outcome: PollOutcome) -> Iterator[RawItem | Rejected]:
        """Hand on a poll's items; then save them as seen, with the feed state, at once.

        An entry counts as taken once the consumer comes back for the next item. The
        poll is saved in one transaction at the end; a consumer that stops early (or
        raises) gets only its taken entries saved, not the state. A crash (kill -9)
        before the end saves nothing: the next poll hands the entries on again.
        """
        taken: list[str] = []
        fetched = utcnow()
        complete = False
        try:
            for item in outcome.items:
                yield item
                if isinstance(item, RawItem):
                    key = item.meta.get("entry_key")
                    if isinstance(key, str):
                        taken.append(key)
                        fetched = item.fetched
            complete = True
        finally:
            if complete and outcome.state is not None:
                state = replace(outcome.state, items_seen=outcome.state.items_seen + len(taken))
                self.store.record_poll(state, taken, fetched, outcome.keys_in_feed, utcnow())
            elif taken:
                self._save_taken(outcome.name, taken, fetched)

    def _save_taken(self, name: str, taken: list[str], fetched: datetime) -> None:
        # The consumer stopped mid-poll: save what it took (fewer repeats next time).
        try:
            self.store.mark_seen_many(name, taken, fetched)
        except sqlite3.Error as exc:  # e.g. the store closed under a stop: they come again
            log.info("feed.entries_not_saved", source=name, entries=len(taken), error=repr(exc))

    def poll(self, source: SourceSettings | str) -> PollOutcome:
        """Fetch one source now, in the calling thread, and time it; never raises for a feed.

        Catches our own bugs (or a locked database) too, as a failed poll, so one source
        cannot end a whole run. Raises `WorkerStopped` once the poller is closed.
        """
        src = self.sources[source] if isinstance(source, str) else source
        started = time.perf_counter()
        try:
            outcome = self.fetch(src)
        except WorkerStopped:
            raise
        except Exception as exc:
            log.exception("feed.poll_crashed", source=src.name)
            error = PollError("internal", f"internal error: {type(exc).__name__}: {exc}")
            outcome = PollOutcome(src, PollStatus.FAILED, error=error)
        outcome.seconds = time.perf_counter() - started
        return outcome

    def fetch(self, source: SourceSettings) -> PollOutcome:
        """Fetch and parse one feed; never raises for anything the network or feed does.

        Raises `WorkerStopped` once the poller is closed (a poll still running at
        shutdown): no failure is then recorded against the feed.
        """
        if self._closed:
            raise WorkerStopped("the feed poller was closed")
        now = utcnow()
        state = self.store.current(source)  # saved with the poll's outcome
        if state.retired_at:
            why = f"retired ({state.retired_reason}); change its URL in the config to poll it again"
            return PollOutcome(source, PollStatus.RETIRED, error=PollError("gone", why))
        try:
            r = self.client.get(
                state.current_url,
                accept=FEED_ACCEPT,
                etag=state.etag,
                last_modified=state.last_modified,
                content_type_check=feed_content_type,
            )
        except FetchError as exc:
            error = PollError(exc.kind, f"{exc.kind}: {exc}")
            if exc.kind == "deferred":
                return self._deferred(source, state, now, error, exc.retry_after)
            return self._failed(source, state, now, error, exc.retry_after)
        except Exception as exc:  # a bug in a library must cost one poll, not the worker
            if self._closed:
                # Closed under a fetch still running at shutdown: not the feed's fault,
                # so no failure is recorded against it (no backoff at the next start).
                raise WorkerStopped("the feed poller was closed") from exc
            log.exception("feed.fetch_crashed", source=source.name)
            error = PollError("internal", f"internal error: {type(exc).__name__}: {exc}")
            return self._failed(source, state, now, error)
        state = state.checked(now, r.status)
        if r.permanent_url and r.permanent_url != state.current_url:
            log.info("feed.moved", source=source.name, url=r.permanent_url)
            state = state.moved_to(r.permanent_url)
        if r.status == 304:
            return self._unchanged(source, state, now, r)
        if r.status == 410:
            reason = f"410 Gone from {r.url}"
            error = PollError("gone", f"feed retired: {reason}")
            return PollOutcome(source, PollStatus.RETIRED, [], state.retire(now, reason), error)
        if not 200 <= r.status < 300:
            error = PollError("status", f"HTTP {r.status} from {r.url}")
            return self._failed(source, state, now, error, r.retry_after())
        digest = hashlib.blake2b(r.body, digest_size=16).hexdigest()
        if digest == state.body_hash:
            return self._unchanged(source, state, now, r)
        parsed = self.parse(
            r.body,
            source=source.name,
            url=r.url,
            content_type=r.headers.get("content-type", ""),
            kind=source.kind,
            fetched=now,
            with_base=self.base_hints.wants_base(source.name),
        )
        if isinstance(parsed, Rejected):
            return self._failed(source, state, now, PollError("parse", parsed.error))
        if parsed.needed_base:
            self.base_hints.remember(source.name)
        return self._changed(source, state, now, r, parsed, digest)

    # -- outcomes --------------------------------------------------------------------

    def _changed(
        self,
        source: SourceSettings,
        state: FeedState,
        now: datetime,
        r: HttpResponse,
        parsed: ParsedFeed,
        digest: str,
    ) -> PollOutcome:
        listed: dict[str, RawItem] = {}  # by key, the first of any repeats, in feed order
        fresh: list[RawItem | Rejected] = []
        for item in parsed.items:
            if isinstance(item, Rejected):
                fresh.append(item)
            else:
                listed.setdefault(item.input_id, item)
        keys = list(listed)
        candidates = list(listed.values())
        seen = self.store.seen(source.name, keys)
        overflow = is_overflow(state, listed=len(keys), seen=len(seen))
        if overflow:
            since = (now - state.last_success).total_seconds() if state.last_success else None
            log.warning(
                "feed.overflow",
                source=source.name,
                entries=len(keys),
                since_last_poll_s=round(since) if since is not None else None,
                hint="every listed entry is new: some may have scrolled off the feed unseen;"
                " poll it more often (sources[].interval_s), or the worker is behind"
                " (news_monitor_polls_skipped_total, news_monitor_poll_lag_seconds)",
            )
        # Feeds list newest first; hand on oldest first so a story starts at its first copy.
        new = [i for i in reversed(candidates) if i.input_id not in seen]
        new.sort(key=lambda i: i.published or now)
        if parsed.warning:
            new = [replace(i, meta={**i.meta, "feed_warning": parsed.warning}) for i in new]
        if source.fetch_pages:
            new = [self.pages.enrich(i) for i in new]
        fresh.extend(new)
        if new:
            state = state.with_new_entries(now)
        state = replace(self._healthy(state, r, digest), ttl_s=parsed.ttl_s)
        status = PollStatus.CHANGED if new else PollStatus.UNCHANGED
        state = state.schedule_next_check(
            status,
            now=now,
            interval_s=source.interval_s,
            schedule=self.settings.schedule,
            ttl_s=parsed.ttl_s,
            max_age_s=cache_max_age(r.headers),
        )
        return PollOutcome(source, status, fresh, state, keys_in_feed=keys, overflow=overflow)

    def _unchanged(
        self, source: SourceSettings, state: FeedState, now: datetime, r: HttpResponse
    ) -> PollOutcome:
        state = self._healthy(state, r, state.body_hash).schedule_next_check(
            PollStatus.UNCHANGED,
            now=now,
            interval_s=source.interval_s,
            schedule=self.settings.schedule,
            ttl_s=state.ttl_s,
            max_age_s=cache_max_age(r.headers),
        )
        return PollOutcome(source, PollStatus.UNCHANGED, [], state)

    @staticmethod
    def _healthy(state: FeedState, r: HttpResponse, digest: str | None) -> FeedState:
        return state.with_success(
            r.headers.get("etag"), r.headers.get("last-modified"), body_hash=digest
        )

    def _deferred(
        self,
        source: SourceSettings,
        state: FeedState,
        now: datetime,
        error: PollError,
        retry_after: float | None,
    ) -> PollOutcome:
        # Another feed on this host got a 429/503 with Retry-After: this feed was not
        # asked and did not fail, so no error is counted; it is tried once the host allows.
        state = state.defer(now, retry_after, self.settings.schedule)
        return PollOutcome(source, PollStatus.DEFERRED, [], state, error)

    def _failed(
        self,
        source: SourceSettings,
        state: FeedState,
        now: datetime,
        error: PollError,
        retry_after: float | None = None,
    ) -> PollOutcome:
        failing = state.with_error(now, error.message).schedule_next_check(
            PollStatus.FAILED,
            now=now,
            interval_s=source.interval_s,
            schedule=self.settings.schedule,
            retry_after_s=retry_after,
        )
        return PollOutcome(
            source,
            PollStatus.FAILED,
            [],
            failing,
            error,
            entered_slow_lane=failing.slow_lane and not state.slow_lane,
        )
