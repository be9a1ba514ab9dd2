"""The daemon against the real broker: crashes, broker outages and SIGTERM lose nothing."""

from __future__ import annotations

import random
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import devkafka
import orjson
import pytest

from tests.integration.harness import daemon, read_topic, wait_for

pytestmark = pytest.mark.kafka

WORDS = """
harbour council river bridge tram festival orchard library budget station museum vineyard
glacier cable quarry lantern meadow ferry reservoir tunnel market bakery stadium clinic
archive beacon canal forest granary hamlet island jetty kiln
""".split()  # noqa: SIM905


def write_items(path: Path, n: int, seed: int = 7) -> list[str]:
    """Write n distinct articles (each its own story) as .jsonl; return their titles."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    titles, lines = [], []
    for i in range(n):
        words = rng.sample(WORDS, 12)
        title = f"Item {i:05d}: {' '.join(words[:5])}"
        sentences = [
            f"Officer{i}x reported {rng.randint(10, 99999)} {w} repairs in district {i}."
            for w in words
        ]
        lines.append(
            orjson.dumps(
                {
                    "id": f"item-{i}",
                    "url": f"https://outlet{i % 7}.example/news/{i}",
                    "title": title,
                    "text": " ".join(sentences),
                    "published": (start + timedelta(seconds=i)).isoformat(),
                    "source": f"outlet{i % 7}",
                }
            )
        )
        titles.append(title)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return titles


def write_config(
    tmp_path: Path, topic: str, items: Path, speed: float, delivery_s: float = 25
) -> Path:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"""
kafka:
  topic: {topic}
  partitions: 2
  delivery_timeout_s: {delivery_s}
  request_timeout_s: {delivery_s / 2.5}
  connect_timeout_s: 5
state:
  path: {tmp_path / "state.db"}
observe:
  port: 0
filters:
  rules: []
replay:
  - name: items
    path: {items}
    speed: {speed}
    max_gap_s: 1
""",
        encoding="utf-8",
    )
    return cfg


def decided(log: Path) -> int:
    """How many item decisions the worker has logged so far."""
    return log.read_bytes().count(b'"event": "item.decided"') if log.exists() else 0


def publish_failed(log: Path) -> bool:
    """True once the worker has logged a failed send or delivery (messages back in the outbox)."""
    text = log.read_bytes() if log.exists() else b""
    return b'"event": "publish.failed"' in text or b'"event": "publish.send_failed"' in text


def check_observe_endpoints(log: Path) -> None:
    """The running daemon serves /healthz, /readyz (state open, Kafka reachable), /metrics."""
    import urllib.request

    events = [orjson.loads(line) for line in log.read_bytes().splitlines() if line.startswith(b"{")]
    (url,) = [e["url"] for e in events if e.get("event") == "observe.started"]
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as r:
        assert r.status == 200
    with urllib.request.urlopen(f"{url}/readyz", timeout=5) as r:
        assert r.status == 200
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
        text = r.read().decode()
    assert 'news_monitor_items_total{decision="published"}' in text
    assert "news_monitor_outbox_depth" in text
    assert "news_monitor_publish_duration_seconds_count" in text
    assert "news_monitor_messages_published_total{topic=" in text


def titles_on(bootstrap: str, topic: str) -> set[str]:
    return {str(v["article"]["title"]) for v, _ in read_topic(bootstrap, topic)}  # type: ignore[index]


def assert_repeats_share_ids(messages: list[tuple[dict[str, object], bytes | None]]) -> None:
    by_id: dict[str, str] = {}
    for value, header in messages:
        assert header is not None and header.decode() == value["message_id"]
        key = f"{value['event']}:{value['item_id']}"
        assert by_id.setdefault(key, str(value["message_id"])) == value["message_id"]


def test_kill_9_mid_replay_then_restart_loses_nothing(tmp_path: Path, kafka_bootstrap: str) -> None:
    topic = f"test.crash.{uuid.uuid4().hex[:8]}"
    items = tmp_path / "items.jsonl"
    titles = write_items(items, 400)
    cfg = write_config(tmp_path, topic, items, speed=20)  # ~20 s for the whole replay
    log = tmp_path / "worker.log"
    with daemon(cfg, kafka_bootstrap, log) as proc:
        # Kill it once it has decided some, but not all, of the items.
        wait_for(lambda: decided(log) >= 50, 120, "first decisions")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    before = titles_on(kafka_bootstrap, topic)
    assert 0 < len(before) < len(titles), "the crash should land mid-replay"
    with daemon(cfg, kafka_bootstrap, log) as proc:
        wait_for(lambda: titles_on(kafka_bootstrap, topic) == set(titles), 180, "every item")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    messages = read_topic(kafka_bootstrap, topic)
    assert {str(v["article"]["title"]) for v, _ in messages} == set(titles)  # type: ignore[index]
    assert_repeats_share_ids(messages)


def test_broker_outage_mid_run_loses_nothing(
    tmp_path: Path, kafka_broker_factory: Callable[..., devkafka.Broker]
) -> None:
    broker = kafka_broker_factory()
    topic = f"test.outage.{uuid.uuid4().hex[:8]}"
    items = tmp_path / "items.jsonl"
    titles = write_items(items, 120, seed=11)
    # One item every 0.1 s: the replay is still running while the broker is down.
    # Deliveries time out during the outage, so messages go back to wait in the outbox.
    cfg = write_config(tmp_path, topic, items, speed=10, delivery_s=10)
    log = tmp_path / "worker.log"
    with daemon(cfg, broker.bootstrap, log) as proc:
        wait_for(lambda: decided(log) >= 10, 60, "first decisions")
        broker.stop()
        # Sends fail once delivery_timeout_s has passed; the outbox keeps their messages.
        wait_for(lambda: publish_failed(log), 120, "a failed delivery while the broker is down")
        broker.restart()
        wait_for(lambda: titles_on(broker.bootstrap, topic) == set(titles), 180, "every item")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert_repeats_share_ids(read_topic(broker.bootstrap, topic))
    events = [orjson.loads(line) for line in log.read_bytes().splitlines() if line.startswith(b"{")]
    assert any(e.get("event") in ("publish.failed", "publish.send_failed") for e in events)


def test_sigterm_stops_within_10s_with_outbox_drained_or_kept(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    topic = f"test.sigterm.{uuid.uuid4().hex[:8]}"
    items = tmp_path / "items.jsonl"
    titles = write_items(items, 200, seed=5)
    cfg = write_config(tmp_path, topic, items, speed=20)
    log = tmp_path / "worker.log"
    with daemon(cfg, kafka_bootstrap, log) as proc:
        wait_for(lambda: decided(log) >= 20, 60, "first decisions")
        check_observe_endpoints(log)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(12) == 0
        assert time.monotonic() - started < 10
    events = [orjson.loads(line) for line in log.read_bytes().splitlines() if line.startswith(b"{")]
    stopped = [e for e in events if e.get("event") == "daemon.stopped"]
    assert stopped, "the daemon logs how it stopped"
    import sqlite3

    with sqlite3.connect(tmp_path / "state.db") as conn:
        (pending,) = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()
    assert pending == stopped[-1]["outbox_pending"]
    on_topic = titles_on(kafka_bootstrap, topic)
    assert 0 < len(on_topic) < len(titles)
