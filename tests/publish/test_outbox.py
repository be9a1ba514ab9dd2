"""Outbox: messages persist until acknowledged, survive reopening, and are bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.publish.message import OutMessage
from monitor.publish.outbox import Outbox, OutboxFull


def msg(n: int) -> OutMessage:
    return OutMessage(topic="t", key=f"k{n}", value=b"{}", message_id=f"m{n}")


def test_messages_wait_until_acked_and_survive_reopen(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    box = Outbox(db)
    box.put([msg(1), msg(2), msg(1)])
    assert box.depth() == 2
    box.ack(["m1"])
    box.record_failure([("m2", "broker down")])
    box.close()
    again = Outbox(db)
    assert [m.message_id for m in again.pending()] == ["m2"]
    again.close()


def test_outbox_is_bounded(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.db", max_pending=2)
    box.put([msg(1), msg(2)])
    with pytest.raises(OutboxFull):
        box.put([msg(3)])
    box.close()
