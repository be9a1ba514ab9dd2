"""Poll configured feeds: conditional GET, parse, hand on only new entries, keep state.

A poll has two halves. `fetch()` does the network work (feed, then article pages
for new entries) and may run in any worker thread. `deliver()` hands the items to
the consumer one by one and marks each entry seen only *after* the consumer has
taken it, then saves the feed's new state: a crash mid-way loses nothing (the
feed is fetched again, already-delivered entries are skipped).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import islice, zip_longest
from pathlib import Path
from typing import TypeGuard
from urllib.parse import urlsplit

import structlog

from connectors.feeds import ParsedFeed, parse_feed
from connectors.feedstate import (
    FeedState,
    FeedStateStore,
    Outcome,
    plan_next_check,
    record_change_interval,
)
from connectors.http import FetchError, HttpResponse, PoliteClient
from connectors.pages import PageFetcher, RobotsCache
from monitor.config import Settings, SourceSettings
from monitor.model import RawItem, Rejected, WorkerStopped, utcnow

log = structlog.get_logger(__name__)

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


DEFERRED = "deferred:"
"""Error prefix of a poll held back (the host asked us to wait): nothing fetched, not a failure."""


def is_deferred(item: RawItem | Rejected) -> TypeGuard[Rejected]:
    """Whether `item` is a deferred poll rather than an item or an error."""
    return isinstance(item, Rejected) and item.error.startswith(DEFERRED)


@dataclass
class PollResult:
    """The outcome of `fetch()`: items to hand on, and the state to save after."""

    source: SourceSettings
    items: list[RawItem | Rejected] = field(default_factory=list)
    state: FeedState | None = None
    """The feed's new state (None: nothing to save, e.g. a retired feed)."""
    keys_in_feed: list[str] = field(default_factory=list)
    overflow: bool = False
    """Every entry the feed lists was new although it had been read before: entries
    published between the two polls may have scrolled off it unseen."""


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

    name = "feeds"

    def __init__(self, settings: Settings, state_db: Path | None = None) -> None:
        self.settings = settings
        self._closed = False
        self.sources = {s.name: s for s in settings.sources}
        self.store = FeedStateStore(
            state_db or settings.resolve(settings.state.path),
            entry_retention=timedelta(days=settings.schedule.entry_retention_days),
        )
        self.client = PoliteClient(settings.http)
        robots = RobotsCache(self.client, settings.http.user_agent, settings.http.robots_cache_s)
        self.pages = PageFetcher(self.client, robots)

    @classmethod
    def open(cls, settings: Settings, state_db: Path | None = None) -> FeedPoller:
        """Open the poller (same as the constructor; reads like a resource)."""
        return cls(settings, state_db)

    def close(self) -> None:
        """Close the HTTP client and the state store."""
        self._closed = True
        self.client.close()
        self.store.close()

    def __enter__(self) -> FeedPoller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the Connector contract ---------------------------------------------------

    def items(self) -> Iterator[RawItem | Rejected]:
        """Poll every configured source once (the `Connector` contract)."""
        return self.poll_once()

    def poll_once(self) -> Iterator[RawItem | Rejected]:
        """Poll every configured source once, `http.pool_size` at a time; yield as they finish."""
        sources = interleave_hosts(self.sources.values())
        if not sources:
            return
        pool = ThreadPoolExecutor(
            max_workers=min(self.settings.http.pool_size, len(sources)), thread_name_prefix="feed"
        )
        # A sliding window of fetches, not all at once: finished polls wait for the
        # consumer, so memory stays bounded by the window, not by the source count.
        window = 2 * self.settings.http.pool_size
        todo = iter(sources)
        running = {pool.submit(self._safe_fetch, s) for s in islice(todo, window)}
        try:
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    nxt = next(todo, None)
                    if nxt is not None:
                        running.add(pool.submit(self._safe_fetch, nxt))
                    yield from self.deliver(fut.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def poll_source(self, source: SourceSettings | str) -> Iterator[RawItem | Rejected]:
        """Poll one source now, in the calling thread."""
        src = self.sources[source] if isinstance(source, str) else source
        return self.deliver(self.fetch(src))

    def state(self, name: str) -> FeedState | None:
        """The stored state of one source."""
        return self.store.get(name)

    def states(self) -> list[FeedState]:
        """The stored state of every source."""
        return self.store.all()

    # -- the two halves of a poll ---------------------------------------------------

    def deliver(self, result: PollResult) -> Iterator[RawItem | Rejected]:
        """Hand on a poll's items; mark each seen once taken; then save the feed state."""
        name = result.source.name
        delivered = 0
        for item in result.items:
            yield item
            if isinstance(item, RawItem):
                key = item.meta.get("entry_key")
                if isinstance(key, str):
                    self.store.mark_seen(name, key, item.fetched)
                    delivered += 1
        if result.state is not None:
            state = replace(result.state, items_seen=result.state.items_seen + delivered)
            self.store.save(state)
            if result.keys_in_feed:
                self.store.refresh_seen(name, result.keys_in_feed, utcnow())

    def _safe_fetch(self, source: SourceSettings) -> PollResult:
        # fetch() handles everything a feed or server can do; this catches our own
        # bugs (or a locked database) so one source cannot end a whole run.
        try:
            return self.fetch(source)
        except Exception as exc:
            log.exception("feed poll crashed", source=source.name)
            error = f"internal error: {type(exc).__name__}: {exc}"
            return PollResult(source, [Rejected(f"feed:{source.name}", source.name, error)])

    def fetch(self, source: SourceSettings) -> PollResult:
        """Fetch and parse one feed; never raises for anything the network or feed does.

        Raises `WorkerStopped` once the poller is closed (a poll still running at
        shutdown): no failure is then recorded against the feed.
        """
        if self._closed:
            raise WorkerStopped("the feed poller was closed")
        now = utcnow()
        state = self.store.ensure(source)
        feed_id = f"feed:{source.name}"
        if state.retired_at:
            why = f"retired ({state.retired_reason}); change its URL in the config to poll it again"
            return PollResult(source, [Rejected(feed_id, source.name, why)])
        try:
            r = self.client.get(
                state.current_url,
                accept=FEED_ACCEPT,
                etag=state.etag,
                last_modified=state.last_modified,
                content_type_check=feed_content_type,
            )
        except FetchError as exc:
            if exc.kind == "deferred":
                return self._deferred(source, state, now, f"{exc.kind}: {exc}", exc.retry_after)
            return self._failed(source, state, now, f"{exc.kind}: {exc}", exc.retry_after)
        except Exception as exc:  # a bug in a library must cost one poll, not the worker
            if self._closed:
                # Closed under a fetch still running at shutdown: not the feed's fault,
                # so no failure is recorded against it (no backoff at the next start).
                raise WorkerStopped("the feed poller was closed") from exc
            log.exception("feed fetch crashed", source=source.name)
            return self._failed(source, state, now, f"internal error: {type(exc).__name__}: {exc}")
        state = replace(state, last_check=now, last_status=r.status)
        if r.permanent_url and r.permanent_url != state.current_url:
            log.info("feed moved permanently", source=source.name, url=r.permanent_url)
            state = replace(state, current_url=r.permanent_url)
        if r.status == 304:
            return self._unchanged(source, state, now, r)
        if r.status == 410:
            reason = f"410 Gone from {r.url}"
            log.warning("feed retired", source=source.name, reason=reason)
            retired = replace(
                state,
                retired_at=now,
                retired_reason=reason,
                next_check=None,
                last_error=reason,
                last_error_at=now,
            )
            return PollResult(
                source, [Rejected(feed_id, source.name, f"feed retired: {reason}")], retired
            )
        if not 200 <= r.status < 300:
            return self._failed(
                source, state, now, f"HTTP {r.status} from {r.url}", r.retry_after()
            )
        digest = hashlib.blake2b(r.body, digest_size=16).hexdigest()
        if digest == state.body_hash:
            return self._unchanged(source, state, now, r)
        parsed = parse_feed(
            r.body,
            source=source.name,
            url=r.url,
            content_type=r.headers.get("content-type", ""),
            kind=source.kind,
            fetched=now,
        )
        if isinstance(parsed, Rejected):
            return self._failed(source, state, now, parsed.error)
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
    ) -> PollResult:
        keys: list[str] = []
        fresh: list[RawItem | Rejected] = []
        candidates: list[RawItem] = []
        for item in parsed.items:
            if isinstance(item, Rejected):
                fresh.append(item)
            elif item.input_id not in keys:
                keys.append(item.input_id)
                candidates.append(item)
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
            state = replace(
                state, change_interval_s=record_change_interval(state, now), last_change=now
            )
        state = replace(self._healthy(state, r, digest), ttl_s=parsed.ttl_s)
        next_check, _ = plan_next_check(
            state,
            outcome="changed" if new else "unchanged",
            now=now,
            interval_s=source.interval_s,
            schedule=self.settings.schedule,
            ttl_s=parsed.ttl_s,
            max_age_s=cache_max_age(r.headers),
        )
        return PollResult(source, fresh, replace(state, next_check=next_check), keys, overflow)

    def _unchanged(
        self, source: SourceSettings, state: FeedState, now: datetime, r: HttpResponse
    ) -> PollResult:
        state = self._healthy(state, r, state.body_hash)
        next_check, _ = plan_next_check(
            state,
            outcome="unchanged",
            now=now,
            interval_s=source.interval_s,
            schedule=self.settings.schedule,
            ttl_s=state.ttl_s,
            max_age_s=cache_max_age(r.headers),
        )
        return PollResult(source, [], replace(state, next_check=next_check))

    @staticmethod
    def _healthy(state: FeedState, r: HttpResponse, digest: str | None) -> FeedState:
        return replace(
            state,
            # A 304 may omit the validators: keep the ones we have.
            etag=r.headers.get("etag") or state.etag,
            last_modified=r.headers.get("last-modified") or state.last_modified,
            body_hash=digest,
            error_count=0,
            slow_lane=False,
            last_success=state.last_check,
        )

    def _deferred(
        self,
        source: SourceSettings,
        state: FeedState,
        now: datetime,
        note: str,
        retry_after: float | None,
    ) -> PollResult:
        # Another feed on this host got a 429/503 with Retry-After: this feed was not
        # asked and did not fail, so no error is counted; it is tried once the host allows.
        wait_s = min(self.settings.schedule.max_retry_after_s, retry_after or 0.0)
        next_check = now + timedelta(seconds=wait_s + random.uniform(0, 0.1 * wait_s + 1))
        state = replace(state, last_check=now, next_check=next_check)
        return PollResult(source, [Rejected(f"feed:{source.name}", source.name, note)], state)

    def _failed(
        self,
        source: SourceSettings,
        state: FeedState,
        now: datetime,
        error: str,
        retry_after: float | None = None,
    ) -> PollResult:
        state = replace(
            state,
            last_check=now,
            error_count=state.error_count + 1,
            total_errors=state.total_errors + 1,
            last_error=error,
            last_error_at=now,
        )
        outcome: Outcome = "error"
        next_check, slow = plan_next_check(
            state,
            outcome=outcome,
            now=now,
            interval_s=source.interval_s,
            schedule=self.settings.schedule,
            retry_after_s=retry_after,
        )
        if slow and not state.slow_lane:
            log.warning(
                "feed moved to the slow lane",
                source=source.name,
                errors=state.error_count,
                error=error,
            )
        state = replace(state, next_check=next_check, slow_lane=slow)
        return PollResult(source, [Rejected(f"feed:{source.name}", source.name, error)], state)
