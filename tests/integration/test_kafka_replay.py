"""End to end against the real broker: replay seeds, read back with the CLI and with kcat."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import jsonschema
import orjson
import pytest

from monitor.publish.message import load_schema
from tests.integration.harness import SEEDS, cli

pytestmark = pytest.mark.kafka


def config(tmp_path: Path, topic: str) -> str:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"kafka:\n  topic: {topic}\n  partitions: 2\nstate:\n  path: {tmp_path / 'state.db'}\n",
        encoding="utf-8",
    )
    return str(cfg)


def test_seeds_reach_the_topic_and_the_consumer(tmp_path: Path, kafka_bootstrap: str) -> None:
    topic = f"test.stories.{uuid.uuid4().hex[:8]}"
    cfg = config(tmp_path, topic)
    res = cli("replay", str(SEEDS), "--config", cfg, bootstrap=kafka_bootstrap)
    assert res.returncode == 0, res.stderr
    assert "published=" in res.stderr

    out = cli(
        "consume",
        "--config",
        cfg,
        "--from-beginning",
        "--json",
        "--timeout",
        "5",
        bootstrap=kafka_bootstrap,
    )
    assert out.returncode == 0, out.stderr
    values = [orjson.loads(line) for line in out.stdout.splitlines()]
    schema = load_schema()
    for value in values:
        jsonschema.validate(value, schema)
    created = [v for v in values if v["event"] == "story.created"]
    assert len(created) >= 4
    assert {v["article"]["source"] for v in values} == {p.name for p in SEEDS.glob("*.txt")}

    human = cli(
        "consume",
        "--config",
        cfg,
        "--from-beginning",
        "--timeout",
        "5",
        bootstrap=kafka_bootstrap,
    )
    assert human.returncode == 0, human.stderr
    for value in created:
        assert value["story_id"] in human.stdout
        assert value["article"]["title"] in human.stdout


def test_kcat_reads_schema_valid_json_from_the_topic(tmp_path: Path, kafka_bootstrap: str) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed: apt-get install kcat (scripts/test installs it)"
    topic = f"test.kcat.{uuid.uuid4().hex[:8]}"
    cfg = config(tmp_path, topic)
    res = cli("replay", str(SEEDS), "--config", cfg, bootstrap=kafka_bootstrap)
    assert res.returncode == 0, res.stderr
    read = subprocess.run(
        [
            kcat,
            "-b",
            kafka_bootstrap,
            "-C",
            "-t",
            topic,
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%k\t%h\t%s\n",
        ],
        capture_output=True,
        timeout=60,
    )
    assert read.returncode == 0, read.stderr
    lines = [ln for ln in read.stdout.splitlines() if ln.strip()]
    assert len(lines) >= 4
    schema = load_schema()
    for line in lines:
        key, headers, value = line.split(b"\t", 2)
        decoded = orjson.loads(value)
        jsonschema.validate(decoded, schema)
        assert key.decode() == decoded["story_id"]
        assert f"message_id={decoded['message_id']}".encode() in headers


def test_replay_twice_does_not_lose_or_corrupt(tmp_path: Path, kafka_bootstrap: str) -> None:
    """The outbox is empty after a successful run: every message was acknowledged."""
    topic = f"test.outbox.{uuid.uuid4().hex[:8]}"
    cfg = config(tmp_path, topic)
    res = cli("replay", str(SEEDS), "--config", cfg, bootstrap=kafka_bootstrap)
    assert res.returncode == 0, res.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)
