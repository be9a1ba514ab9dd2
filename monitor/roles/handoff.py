"""The fetch tier's pipeline: clean and filter each fetched item, hand it to the story tier.

    RawItem -> clean -> filters -> outbox -> items topic (key = source name)

What the story tier needs (`news-monitor.item/1`, `monitor/publish/items.py`) goes
through the fetch instance's own outbox, so an item leaves the instance's inbox only
once its hand-off is stored, and leaves the outbox only once Kafka has it. Items the
filters refuse stay here: each is an `item.decided` line with `decision=filtered` and
its reason, and counted in `news_monitor_items_total{decision="filtered"}`; rejected
items likewise (`decision=rejected`). A handed-over item is `decision=published`
(to the items topic): its story decision is the story tier's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import orjson
import structlog

from monitor.model import PASS_ALL, Decision, Outcome, RawItem, Rejected, stable_id
from monitor.pipeline import CleanStage, DecisionHook, Filter, filtered
from monitor.publish import Publisher
from monitor.publish.items import ItemRecord, encode_item
from monitor.publish.message import OutMessage
from monitor.publish.outbox import OutboxFull
from monitor.state import savepoint, transaction

log = structlog.get_logger("monitor.roles.handoff")


def item_message(topic: str, record: ItemRecord) -> OutMessage:
    """The items-topic message of one record; its id is stable for the item's content."""
    key, value = encode_item(record)
    mid = stable_id("item", record.article.item_id, record.article.title, record.article.text)
    return OutMessage(topic=topic, key=key, value=value, message_id=mid)


def deadletter_message(
    topic: str, input_id: str, source: str, error: str, url: str | None = None
) -> OutMessage:
    """A dead-letter message for an item that could not be processed (the daemon's format)."""
    value = {
        "schema": "news-monitor.deadletter/1",
        "message_id": stable_id("deadletter", input_id, source),
        "input_id": input_id,
        "source": source,
        "error": error,
        "url": url,
    }
    return OutMessage(topic, input_id, orjson.dumps(value), str(value["message_id"]))


class ItemHandOff:
    """Decides fetched items for the fetch tier (the daemon's `Decide`)."""

    def __init__(
        self,
        items_topic: str,
        deadletter_topic: str,
        publisher: Publisher,
        cleaner: CleanStage,
        relevance: Filter | None,
        state: sqlite3.Connection | None,
        hooks: tuple[DecisionHook, ...] = (),
    ) -> None:
        self.items_topic = items_topic
        self.deadletter_topic = deadletter_topic
        self.publisher = publisher
        self.cleaner = cleaner
        self.relevance = relevance
        self.state = state
        self.hooks = hooks

    preparer = None
    """No worker processes: items are cleaned and filtered here (the `Pipeline`'s shape)."""

    def start(self, items: Sequence[RawItem | Rejected]) -> None:
        """Nothing to start ahead without worker processes (the `Pipeline`'s shape)."""
        return None

    def process(self, item: RawItem | Rejected) -> Decision:
        """Decide one item."""
        return self.process_many([item])[0]

    def process_many(
        self, items: Sequence[RawItem | Rejected], started: object = None
    ) -> list[Decision]:
        """Stage the hand-off of every relevant item in one transaction, then send them."""
        decisions: list[Decision] = []
        outgoing: list[OutMessage] = []
        with transaction(self.state):
            for item in items:
                try:
                    with savepoint(self.state, "item"):
                        decision, messages = self._decide(item)
                        self.publisher.stage(messages)
                except OutboxFull:
                    raise  # Kafka away too long: the daemon holds the batch
                except Exception as exc:  # one bad item must not stop the instance
                    log.exception("item.failed", input_id=item.input_id)
                    reason = f"processing failed: {type(exc).__name__}: {exc}"
                    decision = Decision(item.input_id, item.source, Outcome.REJECTED, reason=reason)
                    dead = deadletter_message(
                        self.deadletter_topic,
                        item.input_id,
                        item.source,
                        reason,
                        getattr(item, "url", None),
                    )
                    messages = [dead]
                    self.publisher.stage(messages)
                decisions.append(decision)
                outgoing.extend(messages)
        self.publisher.send(outgoing)
        for decision in decisions:
            log.info(
                "item.decided",
                input_id=decision.input_id,
                item_id=decision.item_id,
                decision=decision.outcome.value,
                reason=decision.reason,
            )
            for hook in self.hooks:
                hook(decision)
        return decisions

    def _decide(self, item: RawItem | Rejected) -> tuple[Decision, list[OutMessage]]:
        if isinstance(item, Rejected):
            return Decision(item.input_id, item.source, Outcome.REJECTED, reason=item.error), []
        article = self.cleaner.clean(item)
        if isinstance(article, Rejected):
            return Decision(item.input_id, item.source, Outcome.REJECTED, reason=article.error), []
        match = self.relevance.evaluate(article) if self.relevance else PASS_ALL
        if not match.relevant:
            return filtered(article, match), []
        warnings = tuple(str(w) for w in article.meta.get("warnings", ()))
        record = ItemRecord(article=article, relevance=match, warnings=warnings)
        decision = Decision(
            article.input_id,
            article.source,
            Outcome.PUBLISHED,
            item_id=article.item_id,
            reason=f"handed to {self.items_topic}",
        )
        return decision, [item_message(self.items_topic, record)]
