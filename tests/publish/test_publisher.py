"""Publisher: messages wait in the outbox while the sink is away and are sent once it is back."""

from __future__ import annotations

from pathlib import Path

from monitor.publish import Publisher
from monitor.publish.message import OutMessage
from monitor.publish.outbox import Outbox


class FlakySink:
    """A sink whose deliveries fail until `up` is set (pure unit test stand-in)."""

    def __init__(self, world: dict[str, bool]) -> None:
        self.world = world
        self.sent: list[str] = []
        self._acked: list[str] = []
        self._failed: list[tuple[str, str]] = []

    def send(self, message: OutMessage) -> None:
        self.sent.append(message.message_id)
        if self.world["up"]:
            self._acked.append(message.message_id)
        else:
            self._failed.append((message.message_id, "broker down"))

    def flush(self, timeout: float | None = None) -> None:
        pass

    def acked(self) -> list[str]:
        out, self._acked = self._acked, []
        return out

    def failed(self) -> list[tuple[str, str]]:
        out, self._failed = self._failed, []
        return out

    def close(self) -> None:
        pass


def msg(n: int) -> OutMessage:
    return OutMessage("t", f"k{n}", b"{}", f"m{n}")


def test_unreachable_sink_keeps_messages_then_drains(tmp_path: Path) -> None:
    world = {"reachable": False, "up": True}
    sinks: list[FlakySink] = []

    def connect() -> FlakySink:
        if not world["reachable"]:
            raise ConnectionError("no broker")
        sinks.append(FlakySink(world))
        return sinks[-1]

    pub = Publisher(connect, Outbox(tmp_path / "s.db"), retry_s=0.0)
    assert not pub.start()
    pub.publish([msg(1), msg(2)])
    assert pub.pending() == 2 and pub.last_error and "no broker" in pub.last_error
    world["reachable"] = True
    pub.tick()
    assert sinks and sinks[0].sent == ["m1", "m2"]
    pub.settle()
    assert pub.pending() == 0 and pub.healthy


def test_failed_deliveries_are_retried_with_the_same_id(tmp_path: Path) -> None:
    world = {"up": False}
    sink = FlakySink(world)
    pub = Publisher(lambda: sink, Outbox(tmp_path / "s.db"), retry_s=0.0)
    pub.start()
    pub.publish([msg(1)])
    assert pub.pending() == 1 and not pub.healthy
    world["up"] = True
    pub.tick()
    pub.settle()
    assert sink.sent == ["m1", "m1"]
    assert pub.pending() == 0
