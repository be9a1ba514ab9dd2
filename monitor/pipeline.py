"""The pipeline: the one place that knows the order of the stages.

    RawItem -> clean -> dedup identity -> filters -> dedup story -> outbox -> sink

Cheap checks run first: an item already seen (same URL, GUID or text) is
recorded as a duplicate before the filters or story clustering look at it.
Every input item gets exactly one `Decision`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeVar

import structlog

from monitor.config import Settings
from monitor.dedup import Deduplicator
from monitor.model import (
    PASS_ALL,
    Article,
    Decision,
    Outcome,
    RawItem,
    Rejected,
    Relevance,
    stable_id,
)
from monitor.pooled import Batch, Finisher, PreparationFailed, Prepared, Preparer, finish
from monitor.publish import Publisher
from monitor.publish.message import EventType, OutMessage, encode, encode_for, story_event
from monitor.publish.outbox import OutboxFull
from monitor.state import savepoint, transaction

log = structlog.get_logger("monitor.pipeline")


class CleanStage(Protocol):
    """The clean stage (`monitor.clean.Cleaner` is the one the worker builds)."""

    def clean(self, raw: RawItem) -> Article | Rejected:
        """Strip boilerplate; reject what cannot be an article."""
        ...


class Filter(Protocol):
    """The relevance stage."""

    def evaluate(self, article: Article) -> Relevance:
        """Decide relevance and say why."""
        ...


DecisionHook = Callable[[Decision], None]


def filtered(article: Article, match: Relevance) -> Decision:
    """The decision for an article the filters did not pass, with their reason."""
    return Decision(
        article.input_id,
        article.source,
        Outcome.FILTERED,
        item_id=article.item_id,
        reason=match.reason,
    )


T = TypeVar("T")

BATCH_SIZE = 64
"""Items decided in one transaction (group commit) when they are at hand together."""


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Split a stream into lists of at most `size` (the unit of one group commit)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _with_warnings(decision: Decision, meta: Mapping[str, Any]) -> Decision:
    """The decision with the item's warnings (a bad date, an unused page) in its details."""
    warnings = meta.get("warnings")
    if not warnings:
        return decision
    return replace(decision, details={**decision.details, "warnings": list(warnings)})


class Pipeline:
    """Runs one item at a time through the stages and publishes what they decide."""

    def __init__(
        self,
        settings: Settings,
        publisher: Publisher,
        cleaner: CleanStage,
        dedup: Deduplicator,
        relevance: Filter | None = None,
        state: sqlite3.Connection | None = None,
        hooks: tuple[DecisionHook, ...] = (),
        preparer: Preparer | None = None,
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.cleaner = cleaner
        self.dedup = dedup
        self.relevance = relevance
        self.state = state
        """The connection the dedup index and the outbox share: one transaction per item."""
        self.hooks = hooks
        self.preparer = preparer
        """Drafts and filter verdicts in worker processes (None: all in this process)."""
        self._finisher = cleaner if isinstance(cleaner, Finisher) else None
        if preparer is not None and self._finisher is None:
            raise TypeError("a pooled pipeline needs a cleaner that finishes drafts")

    def start(self, items: Sequence[RawItem | Rejected]) -> Batch | None:
        """Start the workers on a batch now (None: no workers); pass it to `process_many`.

        The daemon starts the next batch before deciding this one, so the workers
        prepare it while this process does dedup and the outbox.
        """
        return self.preparer.start(items) if self.preparer is not None else None

    def process(self, item: RawItem | Rejected) -> Decision:
        """Decide one item, publish its messages, and report the decision."""
        return self.process_many([item])[0]

    def process_many(
        self, items: Sequence[RawItem | Rejected], started: Batch | None = None
    ) -> list[Decision]:
        """Decide items in one transaction (group commit), then send their messages.

        The dedup index and the outbox change together: after a crash every item of
        the batch is either fully recorded with its messages waiting in the outbox,
        or not recorded at all. Each item has its own savepoint: a stage that fails
        on an item rejects that item only (and sends it to the dead-letter topic). A
        full outbox or a failing sink is not the items' fault and raises.
        """
        decisions: list[Decision] = []
        outgoing: list[OutMessage] = []
        prepared: Iterable[Prepared | PreparationFailed | None] = [None] * len(items)
        if self.preparer is not None:
            # Every result before the transaction: waiting for the workers while holding
            # the state database's write lock would stall the fetch threads' writes.
            prepared = list(self.preparer.results(started or self.preparer.start(items)))
        with transaction(self.state):
            for item, ready in zip(items, prepared, strict=True):
                decision, messages = self._decide_one(item, ready)
                decisions.append(decision)
                outgoing.extend(messages)
        self.publisher.send(outgoing)
        for decision in decisions:
            self._record(decision)
        return decisions

    def _decide_one(
        self, item: RawItem | Rejected, ready: Prepared | PreparationFailed | None = None
    ) -> tuple[Decision, list[OutMessage]]:
        try:
            with savepoint(self.state, "item"):
                decision, messages = self._decide(item, ready)
                self.publisher.stage(messages)
            return decision, messages
        except OutboxFull:
            raise  # not the item's fault: the caller waits for Kafka (backpressure)
        except Exception as exc:  # one bad item must not stop the worker
            log.exception("item.failed", input_id=item.input_id)
            decision = Decision(
                input_id=item.input_id,
                source=item.source,
                outcome=Outcome.REJECTED,
                reason=f"processing failed: {type(exc).__name__}: {exc}",
            )
            messages = [self._deadletter(item, decision)]
            self.publisher.stage(messages)
            return decision, messages

    def _decide(
        self, item: RawItem | Rejected, ready: Prepared | PreparationFailed | None
    ) -> tuple[Decision, list[OutMessage]]:
        if isinstance(item, Rejected):
            return Decision(item.input_id, item.source, Outcome.REJECTED, reason=item.error), []
        if isinstance(ready, PreparationFailed):
            raise ready
        verdict = None
        if isinstance(ready, Prepared) and self._finisher is not None:
            cleaned, verdict = finish(self._finisher, item, ready)
        else:
            cleaned = self.cleaner.clean(item)
        if isinstance(cleaned, Rejected):
            reject = Decision(item.input_id, item.source, Outcome.REJECTED, reason=cleaned.error)
            return _with_warnings(reject, item.meta), []
        if isinstance(ready, Prepared) and ready.canonical:
            # Canonicalising URLs is the costly part of the identity keys: done in a worker.
            self.dedup.given_canonical(cleaned, dict(ready.canonical))
        decision, messages = self._decide_article(cleaned, verdict)
        return _with_warnings(decision, cleaned.meta), messages

    def _decide_article(
        self, article: Article, verdict: Relevance | None = None
    ) -> tuple[Decision, list[OutMessage]]:
        seen = self.dedup.identity(article)
        if seen is not None:
            return Decision(
                article.input_id,
                article.source,
                Outcome.DUPLICATE,
                item_id=article.item_id,
                story_id=seen.story_id,
                reason=f"same {seen.layer} as item {seen.item_id}: already published",
                score=1.0,
                layer=seen.layer,
                details=seen.details,
            ), []
        match = PASS_ALL
        if self.relevance is not None:
            # The worker's verdict on this same article, else the filters here.
            match = verdict if verdict is not None else self.relevance.evaluate(article)
        if not match.relevant:
            return filtered(article, match), []
        story = self.dedup.assign(article)
        event: EventType = "story.created" if story.new else "story.updated"
        dedup_info = None if story.new else {"layer": story.layer, "score": story.score}
        value = story_event(event, story.story_id, article, story.sources, match, dedup_info)
        explain = {
            "rules": list(match.rules),
            "entities": [e.id for e in match.entities],
            **story.details,
        }
        decision = Decision(
            article.input_id,
            article.source,
            Outcome.PUBLISHED if story.new else Outcome.DUPLICATE,
            item_id=article.item_id,
            story_id=story.story_id,
            reason=match.reason if story.new else f"joined story {story.story_id}: {event}",
            score=story.score,
            layer=story.layer,
            details=explain,
        )
        return decision, self._messages(value, match)

    def _messages(self, value: dict[str, Any], match: Relevance) -> list[OutMessage]:
        topics = [self.settings.kafka.topic, *match.topics]
        return encode_for(list(dict.fromkeys(topics)), value)

    def _deadletter(self, item: RawItem | Rejected | Article, decision: Decision) -> OutMessage:
        value = {
            "schema": "news-monitor.deadletter/1",
            "message_id": stable_id("deadletter", item.input_id, item.source),
            "input_id": item.input_id,
            "source": item.source,
            "error": decision.reason,
            "url": getattr(item, "url", None),
        }
        return encode(self.settings.kafka.deadletter_topic, value, key=item.input_id)

    def _record(self, decision: Decision) -> None:
        log.info(
            "item.decided",
            input_id=decision.input_id,
            item_id=decision.item_id,
            story_id=decision.story_id,
            decision=decision.outcome.value,
            reason=decision.reason,
        )
        for hook in self.hooks:
            hook(decision)

    def process_articles(self, records: Sequence[tuple[Article, Relevance]]) -> list[Decision]:
        """Decide articles cleaned and filtered elsewhere (the story tier): dedup and outbox.

        The same group commit as `process_many`, from the dedup identity layer on, with
        the filters' verdict the fetch tier took; a failing item is rejected alone.
        """
        decisions: list[Decision] = []
        outgoing: list[OutMessage] = []
        with transaction(self.state):
            for article, match in records:
                try:
                    with savepoint(self.state, "item"):
                        decision, messages = self._decide_article(article, match)
                        self.publisher.stage(messages)
                except OutboxFull:
                    raise
                except Exception as exc:  # one bad item must not stop the story tier
                    log.exception("item.failed", input_id=article.input_id)
                    decision = Decision(
                        article.input_id,
                        article.source,
                        Outcome.REJECTED,
                        item_id=article.item_id,
                        reason=f"processing failed: {type(exc).__name__}: {exc}",
                    )
                    messages = [self._deadletter(article, decision)]
                    self.publisher.stage(messages)
                decisions.append(_with_warnings(decision, article.meta))
                outgoing.extend(messages)
        self.publisher.send(outgoing)
        for decision in decisions:
            self._record(decision)
        return decisions
