"""The CLI against the real broker: previews that do not spoil the real run, consumer
groups with `--from-beginning`, a missing topic, and `run --once` exit codes."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import orjson
import pytest

from tests.integration.feedserver import FeedServer
from tests.integration.harness import SEEDS, cli
from tests.integration.test_kafka_replay import config

pytestmark = pytest.mark.kafka


def test_a_preview_does_not_spoil_the_real_replay(tmp_path: Path, kafka_bootstrap: str) -> None:
    cfg = config(tmp_path, f"test.preview.{uuid.uuid4().hex[:8]}")
    preview = cli(
        "replay", str(SEEDS), "--config", cfg, "--sink", "stdout", bootstrap=kafka_bootstrap
    )
    assert preview.returncode == 0, preview.stderr
    real = cli("replay", str(SEEDS), "--config", cfg, bootstrap=kafka_bootstrap)
    assert real.returncode == 0, real.stderr
    assert "published=4" in real.stderr  # before: duplicate=5, the preview had taken them
    assert "published=4" in preview.stderr and "throw-away state" in preview.stderr
    assert "dry run" not in real.stderr
    again = cli("replay", str(SEEDS), "--config", cfg, bootstrap=kafka_bootstrap)
    assert "duplicate=5" in again.stderr  # the real state is kept


def test_from_beginning_rereads_a_group_that_committed(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    cfg = config(tmp_path, f"test.group.{uuid.uuid4().hex[:8]}")
    assert cli("replay", str(SEEDS), "--config", cfg, bootstrap=kafka_bootstrap).returncode == 0
    group = f"g-{uuid.uuid4().hex[:8]}"

    def consume(*extra: str) -> list[dict[str, object]]:
        res = cli(
            "consume", "--config", cfg, "--group", group, "--json", "--timeout", "6", *extra,
            bootstrap=kafka_bootstrap,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        return [orjson.loads(line) for line in res.stdout.splitlines()]

    first = consume("--from-beginning")
    assert len(first) == 5
    assert consume() == []  # the group committed its offsets: nothing new
    again = consume("--from-beginning")  # the help says "start at the oldest message"
    assert sorted(str(m["message_id"]) for m in again) == sorted(
        str(m["message_id"]) for m in first
    )  # two partitions: the order between them is not fixed


def test_consume_of_a_missing_topic_with_a_group_exits_1(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    cfg = config(tmp_path, "unused")
    topic = f"nope.{uuid.uuid4().hex[:8]}"
    res = cli(
        "consume", "--config", cfg, "--topic", topic, "--group", "x", "--timeout", "3",
        bootstrap=kafka_bootstrap,
    )  # fmt: skip
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    (line,) = res.stderr.strip().splitlines()
    assert topic in line and "--topic" in line


def test_run_once_exit_codes(tmp_path: Path, kafka_bootstrap: str, feed_server: FeedServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    good = f"http://127.0.0.1:{feed_server.server_address[1]}/feed.xml"
    topic = f"test.once.{uuid.uuid4().hex[:8]}"

    def run(*urls: str) -> int:
        cfg = tmp_path / f"{len(urls)}-{uuid.uuid4().hex[:6]}.yaml"
        sources = "".join(
            f"  - name: s{i}\n    url: {url}\n    fetch_pages: false\n"
            for i, url in enumerate(urls)
        )
        cfg.write_text(
            f"kafka:\n  topic: {topic}\nstate:\n  path: {cfg.with_suffix('.db')}\n"
            'http:\n  allow_private: ["127.0.0.1"]\n  connect_timeout_s: 1\n'
            f"filters:\n  rules: []\nsources:\n{sources}",
            encoding="utf-8",
        )
        res = cli("run", "--once", "--config", str(cfg), bootstrap=kafka_bootstrap)
        assert "Traceback" not in res.stderr + res.stdout
        return res.returncode

    bad = f"http://127.0.0.1:{closed}/feed.xml"
    assert run(good) == 0
    assert run(bad) == 1  # every source failed
    assert run(good, bad) == 1  # one source failed
