"""A library's repeated warnings are logged once per interval, with the count held back."""

from __future__ import annotations

import io
import json
import logging

from monitor.config import LogSettings
from monitor.logging import RepeatFilter, configure_logging, get_logger


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(name: str, msg: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, ("broker:9092", 111), None)


def test_repeats_are_held_back_per_template_and_counted() -> None:
    clock = Clock()
    f = RepeatFilter(10.0, clock=clock)
    conn = "Connect attempt to %s returned error %s"
    assert f.filter(_record("kafka.conn", conn))
    held = [f.filter(_record("kafka.conn", conn)) for _ in range(50)]
    assert not any(held)
    # Another template, level or logger is another line.
    assert f.filter(_record("kafka.conn", "Broker %s closed the connection %s"))
    assert f.filter(_record("kafka.conn", conn, logging.ERROR))
    assert f.filter(_record("kafka.client", conn))
    clock.now = 10.5
    rec = _record("kafka.conn", conn)
    assert f.filter(rec) and getattr(rec, "repeated", None) == 50
    # Our own loggers are never filtered; interval 0 turns it off.
    assert all(f.filter(_record("monitor.daemon", conn)) for _ in range(3))
    off = RepeatFilter(0.0, clock=clock)
    assert all(off.filter(_record("kafka.conn", conn)) for _ in range(3))


def test_the_worker_log_shows_one_line_and_the_count() -> None:
    out = io.StringIO()
    configure_logging(LogSettings(format="json", library_repeat_s=3600), stream=out)
    try:
        lib = logging.getLogger("kafka.conn")
        for _ in range(20):
            lib.warning("Connect attempt to %s returned error %s", "b:9092", 111)
        get_logger("monitor.test").warning("ours", n=1)
        get_logger("monitor.test").warning("ours", n=2)
    finally:
        configure_logging(LogSettings(format="json"), stream=io.StringIO())
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [entry["event"][:15] for entry in lines] == ["Connect attempt", "ours", "ours"]
    assert lines[0]["logger"] == "kafka.conn" and "repeated" not in lines[0]
