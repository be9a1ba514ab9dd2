"""Run every configured source on its own schedule (APScheduler 3.x, background threads).

`SourceScheduler` is the daemon's one `Source`: a job per feed and per replay folder.
A feed's job is an `IntervalTrigger` with jitter as the fallback rhythm; after each
poll it moves to the feed's planned next check (TTL, Cache-Control, Retry-After,
change frequency, backoff; see `FeedState.schedule_next_check`). Each poll's outcome
goes to `on_poll` (by default `monitor.feedhealth.report_poll`), its items to `submit`.
A bounded thread pool caps concurrent fetches; `max_instances=1` keeps a slow
feed from overlapping itself; `coalesce` turns a backlog of missed runs into one;
`misfire_grace_time=None` means a late run still runs (a feed is never skipped).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connectors.poller import FeedPoller
from connectors.polls import PollOutcome, PollStatus
from connectors.replay import ReplayConnector, replay_delays
from monitor.config import ReplaySourceSettings, Settings, SourceSettings
from monitor.feedhealth import report_poll
from monitor.model import RawItem, Rejected, WorkerStopped, utcnow

log = structlog.get_logger(__name__)

Submit = Callable[[RawItem | Rejected], None]
OnPoll = Callable[[PollOutcome], None]
"""Called with every finished poll's outcome (from the pool threads), before its items."""
OnLag = Callable[[str, float], None]
"""Called with a feed's name and how many seconds after its planned time its poll began."""
OnSkip = Callable[[str], None]
"""Called with a feed's name when a poll was due while its previous one still ran."""
FIRST_POLL_SPREAD_S = 300.0
"""New feeds' first polls are spread over up to this long, so a start is not a burst."""


class SourceScheduler:
    """The schedule of every feed and replay folder: a `monitor.daemon.Source`.

    Jobs are added when it is built; `start(submit)` runs them, `shutdown()` stops it.
    """

    def __init__(
        self,
        settings: Settings,
        poller: FeedPoller,
        *,
        on_poll: OnPoll = report_poll,
        rng: random.Random | None = None,
        first_poll_spread_s: float = FIRST_POLL_SPREAD_S,
        on_lag: OnLag | None = None,
        on_skip: OnSkip | None = None,
        sources: Collection[str] | None = None,
    ) -> None:
        """`sources`: the names of the feeds scheduled from the start (None: every feed and
        replay folder; a fetch instance starts with none and adds its share)."""
        self.settings = settings
        self.poller = poller
        self.on_poll = on_poll
        self._submit: Submit | None = None
        self.on_lag = on_lag
        self.on_skip = on_skip
        self._planned: dict[str, datetime] = {}
        """When each feed's next poll is meant to start (what its lag is measured from)."""
        self._rng = rng or random.Random()
        self._spread = first_poll_spread_s
        # APScheduler's shutdown(wait=True) holds its job-store lock while it waits for
        # running jobs; a job calling modify_job then would deadlock. So jobs touch the
        # scheduler only under this lock, and never once shutdown has begun.
        self._lock = threading.Lock()
        self._stopping = False
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(settings.http.pool_size)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        # APScheduler skips a run whose previous run of the same feed is still going
        # (max_instances=1) and only logs it; counted, a worker that falls behind its
        # schedule shows up in the metrics before entries scroll off the feeds.
        self.scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)
        self._running: set[str] = set()
        """Feeds whose poll runs now (under `_idle`)."""
        self._idle = threading.Condition()
        if sources is None:
            for source in settings.sources:
                self._add(source)
            for replay in settings.replay:
                self._add_replay(replay)
        else:
            for name in sources:
                self.add_source(name)

    def _add_replay(self, replay: ReplaySourceSettings) -> None:
        trigger = (
            IntervalTrigger(seconds=replay.interval_s, timezone=UTC)
            if replay.interval_s
            else DateTrigger(run_date=utcnow(), timezone=UTC)
        )
        self.scheduler.add_job(
            self._run_replay,
            trigger,
            args=(replay,),
            id=f"replay:{replay.name}",
            name=f"replay:{replay.name}",
            next_run_time=utcnow(),
        )

    def _run_replay(self, replay: ReplaySourceSettings) -> None:
        """Replay saved files, paced by `speed` (runs in a pool thread)."""
        items = ReplayConnector(
            [self.settings.resolve(replay.path)],
            name=replay.name,
            max_bytes=self.settings.clean.max_input_bytes,
        ).items()
        for delay, item in replay_delays(items, replay.speed, replay.max_gap_s):
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                if self._stopping:
                    return  # not yet read: the next start replays it again
                time.sleep(min(0.2, deadline - time.monotonic()))
            if self._stopping or self._submit is None:
                return
            try:
                self._submit(item)
            except WorkerStopped:
                return  # the daemon closed meanwhile: replayed again at the next start

    def _add(self, source: SourceSettings) -> None:
        state = self.poller.store.ensure(source)
        if state.retired_at:
            log.warning("feed.not_scheduled", source=source.name, reason=state.retired_reason)
            return
        now = utcnow()
        first = state.next_check
        if first is None or first < now:
            spread = min(source.interval_s, self._spread)
            first = now + timedelta(seconds=self._rng.uniform(0, spread))
        self._planned[source.name] = first
        self.scheduler.add_job(
            self._run,
            IntervalTrigger(
                seconds=source.interval_s,
                jitter=int(source.interval_s * self.settings.schedule.jitter) or None,
                timezone=UTC,
            ),
            args=(source.name,),
            id=source.name,
            name=f"feed:{source.name}",
            next_run_time=first,
        )

    def add_source(self, name: str) -> None:
        """Schedule the configured feed `name` at run time (a fetch instance was given it)."""
        source = next((s for s in self.settings.sources if s.name == name), None)
        if source is None:
            raise KeyError(f"no configured source called {name!r}")
        with self._lock:
            if self._stopping or self.scheduler.get_job(name) is not None:
                return
            self._add(source)

    def remove_source(self, name: str) -> None:
        """Stop scheduling the feed `name` (a poll running now finishes: see `wait_idle`)."""
        with self._lock:
            self._planned.pop(name, None)
            with contextlib.suppress(JobLookupError):  # not scheduled: retired, never added
                self.scheduler.remove_job(name)

    def wait_idle(self, names: Collection[str], timeout: float) -> bool:
        """Wait until no poll of the feeds `names` runs; False if one still runs at `timeout`."""
        wanted = set(names)
        with self._idle:
            return self._idle.wait_for(lambda: not (self._running & wanted), timeout)

    def _skipped(self, event: JobSubmissionEvent) -> None:
        if self.on_skip is not None and not event.job_id.startswith("replay:"):
            self.on_skip(event.job_id)

    def _run(self, name: str) -> None:
        """One scheduled poll of one source (runs in a pool thread)."""
        submit = self._submit
        if self._stopping or submit is None:
            # Polls queued in the thread pool when the schedule stopped (many, when
            # the worker was behind) start no fetch any more.
            return
        with self._idle:
            self._running.add(name)
        try:
            self._poll(name, submit)
        finally:
            with self._idle:
                self._running.discard(name)
                self._idle.notify_all()

    def _poll(self, name: str, submit: Submit) -> None:
        planned = self._planned.get(name)
        if planned is not None and self.on_lag is not None:
            self.on_lag(name, max(0.0, (utcnow() - planned).total_seconds()))
        try:
            outcome = self.poller.poll(name)
            self.on_poll(outcome)
            for item in self.poller.deliver(outcome):
                submit(item)
        except WorkerStopped:
            # The worker stopped while this poll ran: what it did not hand over stays
            # unseen (the feed state unsaved) and is fetched again at the next start.
            log.info("feed.poll_interrupted", source=name, reason="the worker stopped")
            return
        except Exception as exc:
            # The consumer (or a bug) failed: the undelivered entries stay unseen
            # and the feed state unsaved, so the next run tries again.
            if self._stopping:
                # Most likely what the stop closed under it (the state, the client).
                log.info("feed.poll_interrupted", source=name, reason=repr(exc))
            else:
                log.exception("feed.delivery_failed", source=name)
            return
        self._reschedule(name, outcome)

    def _reschedule(self, name: str, outcome: PollOutcome) -> None:
        """Move the feed's job to its planned next check (or drop it: the feed retired)."""
        state = outcome.state
        with self._lock:
            if self._stopping:
                return
            try:
                if outcome.status is PollStatus.RETIRED:
                    self.scheduler.remove_job(name)
                elif state is not None and state.next_check is not None:
                    self.scheduler.modify_job(name, next_run_time=state.next_check)
                    self._planned[name] = state.next_check
            except JobLookupError:
                pass  # removed meanwhile

    def next_run(self, name: str) -> datetime | None:
        """When the scheduler will next poll `name` (None: not scheduled)."""
        job = self.scheduler.get_job(name)
        return job.next_run_time if job is not None else None

    def start(self, submit: Submit, paused: bool = False) -> None:
        """Start the jobs in background threads; items go to `submit` from those threads.

        `paused`: schedule, but run nothing yet.
        """
        self._submit = submit
        self.scheduler.start(paused=paused)

    def shutdown(self, wait: bool = False) -> None:
        """Stop scheduling; with `wait`, let running polls finish (and deliver) first.

        Without it (the daemon's stop), running polls finish on their own: their items
        still go to `submit`, which refuses them once the daemon has closed its inbox.
        """
        with self._lock:
            self._stopping = True
        self.scheduler.shutdown(wait=wait)
