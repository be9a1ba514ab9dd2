"""Daemon core: queue, stop with leftovers stored in the inbox, inbox replay on start."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import orjson

from monitor.config import DEFAULT_CONFIG, Settings
from monitor.daemon import Daemon, Submit
from monitor.inbox import Inbox, dump_item, load_item
from monitor.model import RawItem, WorkerStopped
from monitor.publish import Publisher
from monitor.publish.sinks import open_stream_sink
from monitor.wiring import Stages, build_pipeline, build_stages


def item(n: int) -> RawItem:
    body = f"Body of article number {n}, long enough to be kept as an article."
    return RawItem(input_id=f"i{n}", source="test", text=f"Headline number {n} here\n{body}")


class ListSource:
    """Submits a fixed list from its own thread, then asks the daemon to stop."""

    def __init__(self, items: list[RawItem], daemon: Daemon, linger_s: float = 0.0) -> None:
        self.items, self.daemon, self.linger_s = items, daemon, linger_s
        self.stopped = False

    def start(self, submit: Submit) -> None:
        def run() -> None:
            for it in self.items:
                submit(it)
            time.sleep(self.linger_s)
            self.daemon.stop()

        threading.Thread(target=run, daemon=True).start()

    def shutdown(self) -> None:
        self.stopped = True


def build(tmp_path: Path, out: Path) -> Daemon:
    return build_with_stages(tmp_path, out)[0]


def build_with_stages(tmp_path: Path, out: Path) -> tuple[Daemon, Stages]:
    settings = Settings(
        state={"path": tmp_path / "state.db"},
        clean={"min_chars": 10},
        config_dir=DEFAULT_CONFIG.parent,
    )
    publisher = Publisher(lambda: open_stream_sink("jsonl", str(out)))
    stages = build_stages(settings, no_filter=True, state_path=settings.state_path)
    pipeline = build_pipeline(settings, stages, publisher)
    return Daemon(pipeline, publisher, Inbox(tmp_path / "state.db")), stages


def test_items_flow_and_stop_is_clean(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    daemon = build(tmp_path, out)
    source = ListSource([item(n) for n in range(50)], daemon)
    assert daemon.run([source], install_signals=False) == 0
    assert source.stopped
    published = [orjson.loads(line)["article"]["source"] for line in out.read_bytes().splitlines()]
    stored = Inbox(tmp_path / "state.db").pending()
    # Nothing lost: every item was either published or kept in the inbox.
    assert len(published) + len(stored) == 50


def test_a_fetch_thread_that_delivers_after_the_stop_is_told_so(tmp_path: Path) -> None:
    """Late deliveries go to the inbox while it is open; after that the connector hears
    `WorkerStopped` (and keeps the item unseen) instead of a closed-database error."""
    import pytest

    daemon = build(tmp_path, tmp_path / "out.jsonl")
    assert daemon.run([ListSource([], daemon)], install_signals=False) == 0
    with pytest.raises(WorkerStopped):
        daemon.submit(item(7))
    assert Inbox(tmp_path / "state.db").pending() == []


def test_a_taken_item_survives_a_crash_of_the_daemon(tmp_path: Path) -> None:
    """kill -9 with items queued: each was in the inbox before `submit` returned (the
    feed marks it seen then), so the next start processes it; processed items leave."""
    out = tmp_path / "out.jsonl"
    crashed, crashed_stages = build_with_stages(tmp_path, out)
    crashed.submit(item(1))
    crashed.submit(item(2))  # queued in memory, never processed: the process "dies" here
    assert [i.input_id for _, i in Inbox(tmp_path / "state.db").pending()] == ["i1", "i2"]
    assert crashed_stages.lock is not None
    crashed_stages.lock.release()  # as the kernel does when a process dies
    daemon = build(tmp_path, out)
    daemon.run([ListSource([item(3)], daemon, linger_s=0.5)], install_signals=False)
    titles = [orjson.loads(line)["article"]["title"] for line in out.read_bytes().splitlines()]
    assert sorted(titles) == [f"Headline number {n} here" for n in (1, 2, 3)]
    assert Inbox(tmp_path / "state.db").pending() == []


def test_inbox_items_are_processed_first_on_start(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "state.db")
    inbox.add(item(1))
    inbox.add(item(2))
    inbox.close()
    out = tmp_path / "out.jsonl"
    daemon = build(tmp_path, out)
    daemon.run([ListSource([], daemon)], install_signals=False)
    titles = [orjson.loads(line)["article"]["title"] for line in out.read_bytes().splitlines()]
    assert titles == ["Headline number 1 here", "Headline number 2 here"]
    assert Inbox(tmp_path / "state.db").pending() == []


def test_items_round_trip_through_the_inbox_format() -> None:
    original = item(3)
    assert load_item(dump_item(original)) == original


class FailingFilter:
    """A relevance stage that breaks on one item (pure unit test stand-in)."""

    def evaluate(self, article: object) -> object:
        raise RuntimeError("rule engine exploded")


def test_a_failing_stage_rejects_the_item_and_sends_it_to_the_deadletter_topic(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    daemon = build(tmp_path, out)
    daemon.pipeline.relevance = FailingFilter()  # type: ignore[assignment]
    decision = daemon.pipeline.process(item(1))
    daemon.publisher.close()
    assert decision.outcome.value == "rejected"
    assert decision.reason and "rule engine exploded" in decision.reason
    (value,) = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert value["schema"] == "news-monitor.deadletter/1"
    assert "rule engine exploded" in value["error"] and value["input_id"] == "i1"


def test_a_full_outbox_pauses_intake_instead_of_dropping(tmp_path: Path) -> None:
    from monitor.publish.outbox import Outbox

    settings = Settings(
        state={"path": tmp_path / "s.db"}, clean={"min_chars": 10}, config_dir=DEFAULT_CONFIG.parent
    )
    stages = build_stages(settings, no_filter=True, state_path=settings.state_path)

    def unreachable() -> Any:
        raise ConnectionError("no broker")

    publisher = Publisher(unreachable, Outbox(max_pending=100, connection=stages.state))
    daemon = Daemon(
        build_pipeline(settings, stages, publisher), publisher, Inbox(tmp_path / "s.db")
    )
    fulls: list[int] = []
    daemon.on_full = lambda: fulls.append(1)
    source = ListSource([item(n) for n in range(90)], daemon, linger_s=1.5)
    daemon.run([source], install_signals=False)
    # Some fit below the headroom; the rest waited and were kept for the next start.
    assert publisher.pending() + len(Inbox(tmp_path / "s.db").pending()) == 90
    assert fulls
