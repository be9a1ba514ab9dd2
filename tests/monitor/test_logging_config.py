"""Logging: JSON or console lines on a real stream, level, UTC timestamps, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import SecretStr
from structlog.testing import capture_logs

from monitor.config import KafkaSettings, LogSettings
from monitor.logging import (
    REDACTED,
    configure_logging,
    get_logger,
    is_secret_key,
    redact_secrets,
    redact_text,
)
from monitor.model import Outcome


class TTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    configure_logging(LogSettings(), stream=out)
    get_logger("monitor.feeds").info("feed fetched", feed="yonhap", items=12)
    [line] = lines(out)
    assert line["event"] == "feed fetched"
    assert line["feed"] == "yonhap"
    assert line["items"] == 12
    assert line["level"] == "info"
    assert line["logger"] == "monitor.feeds"
    stamp = datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_console_lines_on_a_terminal() -> None:
    out = TTY()
    configure_logging(LogSettings(), stream=out)
    get_logger("monitor.feeds").warning("feed slow", feed="kcna")
    text = out.getvalue()
    assert "feed slow" in text and "kcna" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_format_json_wins_over_a_terminal() -> None:
    out = TTY()
    configure_logging(LogSettings(format="json"), stream=out)
    get_logger("x").info("hello")
    assert lines(out)[0]["event"] == "hello"


def test_level_filters_ours_and_library_records() -> None:
    out = io.StringIO()
    configure_logging(LogSettings(level="WARNING"), stream=out)
    log = get_logger("monitor.pipeline")
    log.info("too chatty")
    log.warning("outbox full", depth=10000)
    logging.getLogger("kafka.conn").info("connecting")
    logging.getLogger("kafka.conn").error("broker %s down", "kafka:29092")
    got = [(line["logger"], line["event"]) for line in lines(out)]
    assert got == [("monitor.pipeline", "outbox full"), ("kafka.conn", "broker kafka:29092 down")]


def test_context_is_bound_per_item() -> None:
    out = io.StringIO()
    configure_logging(LogSettings(), stream=out)
    log = get_logger("monitor.pipeline")
    with structlog.contextvars.bound_contextvars(feed="tass", item_id="ab12"):
        log.info("decided", decision="published")
    log.info("idle")
    first, second = lines(out)
    assert (first["feed"], first["item_id"], first["decision"]) == ("tass", "ab12", "published")
    assert "feed" not in second


def test_secrets_never_reach_the_stream() -> None:
    out = io.StringIO()
    configure_logging(LogSettings(), stream=out)
    kafka = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="monitor",
        sasl_password=SecretStr("hunter2-sasl"),
    )
    log = get_logger("monitor.publish")
    log.info("producer settings", kafka=kafka)
    log.info("login", password="hunter2-plain", api_key="k-123", tokens=7)
    log.info("fetch", url="https://bob:hunter2-url@feeds.example/rss?token=t-999")
    logging.getLogger("kafka.conn").warning("auth failed, sasl_password=hunter2-lib")
    try:
        raise ValueError("bad secret: hunter2-exc")
    except ValueError:
        log.exception("failed")

    text = out.getvalue()
    for secret in ("hunter2", "k-123", "t-999"):
        assert secret not in text
    first, second, third, fourth, fifth = lines(out)
    # Settings objects come out as structured JSON with only the secret masked.
    assert first["kafka"]["sasl_password"] == REDACTED
    assert first["kafka"]["sasl_username"] == "monitor"
    assert second["password"] == REDACTED and second["api_key"] == REDACTED
    assert second["tokens"] == 7
    assert third["url"] == f"https://bob:{REDACTED}@feeds.example/rss?token={REDACTED}"
    assert fourth["event"] == f"auth failed, sasl_password={REDACTED}"
    assert "ValueError" in fifth["exception"]


def test_capture_logs_sees_events_from_get_logger() -> None:
    configure_logging(LogSettings(), stream=io.StringIO())
    log = get_logger("monitor.dedup")
    with capture_logs() as captured:
        log.info("duplicate", layer="near", score=0.93)
    assert captured == [{"event": "duplicate", "layer": "near", "score": 0.93, "log_level": "info"}]


def test_redact_processor_masks_nested_values() -> None:
    event = {
        "event": "config",
        "sasl": {"SASL_PASSWORD": "x", "user": "u"},
        "items": [SecretStr("y"), "ok"],
        "_record": object(),
    }
    got = redact_secrets(None, "info", event)
    assert got["sasl"] == {"SASL_PASSWORD": REDACTED, "user": "u"}
    assert got["items"] == [REDACTED, "ok"]
    assert got["_record"] is event["_record"]


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("sasl_password", True),
        ("client-secret", True),
        ("auth_token", True),
        ("x-api-key", True),
        ("API_KEY", True),
        ("tokens", False),
        ("max_tokens", False),
        ("feed", False),
        ("secretary", False),
    ],
)
def test_is_secret_key(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_redact_text_leaves_plain_news_alone() -> None:
    text = "Kim Jong Un met Putin at 10:30; 12,000 troops, tokens: 5"
    assert redact_text(text) == text


def test_json_renders_common_types_readably() -> None:
    out = io.StringIO()
    configure_logging(LogSettings(), stream=out)
    when = datetime(2024, 10, 18, 9, 0, tzinfo=UTC)
    get_logger("x").info(
        "state", path=Path("/var/lib/news-monitor/monitor.db"), at=when, decision=Outcome.FILTERED
    )
    line = lines(out)[0]
    assert line["path"] == "/var/lib/news-monitor/monitor.db"
    assert line["at"] == "2024-10-18T09:00:00+00:00"
    assert line["decision"] == "filtered"


def test_non_ascii_text_stays_readable() -> None:
    out = io.StringIO()
    configure_logging(LogSettings(), stream=out)
    get_logger("x").info("entity", name="김정은", alias="Ким Чен Ын")
    assert "김정은" in out.getvalue() and "Ким Чен Ын" in out.getvalue()
