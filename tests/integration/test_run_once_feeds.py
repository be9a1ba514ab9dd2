"""`run --once` and `feeds` through the real CLI: a local feed server, the real broker."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.integration.feedserver import STORIES, FeedServer
from tests.integration.harness import cli, read_topic

pytestmark = pytest.mark.kafka


def test_run_once_publishes_feed_items_then_polls_conditionally(
    tmp_path: Path, kafka_bootstrap: str, feed_server: FeedServer
) -> None:
    topic = f"test.feeds.{uuid.uuid4().hex[:8]}"
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"""
kafka: {{topic: {topic}, partitions: 1}}
state: {{path: {tmp_path / "state.db"}}}
http: {{allow_private: ["127.0.0.1"], per_host_delay_s: 0}}
sources:
  - name: local-feed
    url: http://127.0.0.1:{feed_server.server_port}/feed.xml
    interval_s: 60
""",
        encoding="utf-8",
    )
    first = cli("run", "--once", "--config", str(cfg), bootstrap=kafka_bootstrap)
    assert first.returncode == 0, first.stderr
    assert "3 items" in first.stderr
    values = [v for v, _ in read_topic(kafka_bootstrap, topic)]
    assert len(values) == 3
    assert {v["article"]["title"] for v in values} == {title for title, _ in STORIES}

    second = cli("run", "--once", "--config", str(cfg), bootstrap=kafka_bootstrap)
    assert second.returncode == 0, second.stderr
    assert "0 items" in second.stderr
    assert feed_server.requests[-1].get("If-None-Match") == '"v1"'
    assert len(read_topic(kafka_bootstrap, topic)) == 3

    table = cli("feeds", "--config", str(cfg), bootstrap=kafka_bootstrap)
    assert table.returncode == 0, table.stderr
    assert "local-feed" in table.stdout
