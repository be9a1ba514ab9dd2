"""The fetch tier's hand-off: relevant items become items-topic records, the rest stay here."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

from monitor.clean import Cleaner
from monitor.config import CleanSettings
from monitor.model import Article, Origin, RawItem, Rejected, Relevance
from monitor.publish import Publisher
from monitor.publish.items import decode_item
from monitor.publish.sinks import StreamSink
from monitor.roles.handoff import ItemHandOff

CONFIG = Path(__file__).resolve().parents[2] / "config"
TEXT = (
    "North Korean troops were seen near the front in Kursk, Ukrainian officials said on"
    " Tuesday. Defense Minister Rustem Umerov told KBS that 11,000 soldiers had arrived."
)


class TitleFilter:
    """Relevant when the title says "Kursk" (a stand-in for the rule filter)."""

    def evaluate(self, article: Article) -> Relevance:
        hit = "Kursk" in article.title
        return Relevance(relevant=hit, reason="title names Kursk" if hit else "no rule matched")


def entry(n: int, title: str) -> RawItem:
    return RawItem(
        input_id=f"guid-{n}",
        source="feed-a",
        title=title,
        text=TEXT,
        url=f"https://a.example/{n}",
        guid=f"guid-{n}",
        origin=Origin.ENTRY,
    )


def test_relevant_items_are_handed_over_and_the_others_decided_here() -> None:
    out = io.BytesIO()
    publisher = Publisher(lambda: StreamSink(out))
    publisher.start()
    cleaner = Cleaner.from_settings(CleanSettings(), CONFIG)
    seen = []
    handoff = ItemHandOff(
        "news.items", "news.deadletter", publisher, cleaner, TitleFilter(), None, (seen.append,)
    )
    try:
        decisions = handoff.process_many(
            [
                entry(1, "Troops near Kursk"),
                entry(2, "Weather in Lisbon"),
                Rejected(input_id="guid-3", source="feed-a", error="HTTP 500"),
            ]
        )
    finally:
        cleaner.close()
    assert [d.outcome.value for d in decisions] == ["published", "filtered", "rejected"]
    assert decisions[0].reason == "handed to news.items"
    assert decisions[1].reason == "no rule matched"
    assert seen == decisions
    (line,) = out.getvalue().splitlines()
    record = decode_item(orjson.dumps(orjson.loads(line)))
    assert record.article.title == "Troops near Kursk" and record.article.guid == "guid-1"
    assert record.relevance.relevant and record.relevance.reason == "title names Kursk"
