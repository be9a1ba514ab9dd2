"""Integration tests of the local broker launcher against the real Kafka broker it starts."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import devkafka
import pytest
from kafka import KafkaConsumer, KafkaProducer

ROOT = Path(__file__).resolve().parents[2]
ZSTD, LZ4 = 4, 3  # record batch v2 attribute codes


def _topic(name: str) -> str:
    return f"test.devkafka.{name}.{uuid.uuid4().hex[:8]}"


Pairs = list[tuple[str, str]]
# Repetitive text: kafka-python sends a batch uncompressed when compressing would not shrink it.
TEXT = "North Korean troops were reported near Kursk, officials said. " * 20


def _items(prefix: str, count: int) -> Pairs:
    return [(f"{prefix}{i}", json.dumps({"n": i, "text": TEXT})) for i in range(count)]


def _produce(bootstrap: str, topic: str, items: Pairs, codec: str) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        compression_type=codec,
        linger_ms=50,
    )
    try:
        futures = [producer.send(topic, key=k.encode(), value=v.encode()) for k, v in items]
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=60)  # raises if the broker did not acknowledge
    finally:
        producer.close(timeout=10)


def _consume(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> Pairs:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    got: Pairs = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                got.extend((r.key.decode(), r.value.decode()) for r in records)
    finally:
        consumer.close()
    return got


def _kcat(kcat: str, bootstrap: str, topic: str) -> Pairs:
    done = subprocess.run(
        [kcat, "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
         "-f", "%k\\t%s\\n"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [(k, v) for k, v in (line.split("\t", 1) for line in done.stdout.splitlines())]


def _batches(segment: Path) -> list[tuple[int, int]]:
    """(compression codec, producer id) of each record batch in a log segment file."""
    data = segment.read_bytes()
    out: list[tuple[int, int]] = []
    pos = 0
    while pos + 61 <= len(data):
        (length,) = struct.unpack_from(">i", data, pos + 8)
        if length <= 0:
            break
        (attributes,) = struct.unpack_from(">h", data, pos + 21)
        (producer_id,) = struct.unpack_from(">q", data, pos + 43)
        out.append((attributes & 0x7, producer_id))
        pos += 12 + length
    return out


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _brokers_started_in(workdir: Path) -> list[int]:
    """Pids of live kafka.Kafka processes whose server.properties lies in workdir."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in args and str(workdir / "server.properties").encode() in args:
            pids.append(int(cmdline.parent.name))
    return pids


def _devkafka(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devkafka", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip


@pytest.mark.kafka
@pytest.mark.parametrize("codec", ["zstd", "lz4"])
def test_compressed_idempotent_messages_read_back_by_kafka_python_and_kcat(
    kafka_bootstrap: str, kcat: str, codec: str
) -> None:
    topic = _topic(codec)
    items = _items("story-", 5)
    _produce(kafka_bootstrap, topic, items, codec)
    assert _consume(kafka_bootstrap, topic, len(items)) == items
    assert _kcat(kcat, kafka_bootstrap, topic) == items


@pytest.mark.kafka
def test_restart_and_kill_keep_acknowledged_data_and_stop_leaves_no_process(
    kafka_broker_factory: Callable[..., devkafka.Broker],
) -> None:
    broker = kafka_broker_factory()
    bootstrap, topic = broker.bootstrap, _topic("restart")
    _produce(bootstrap, topic, _items("a", 3), "zstd")
    segment = broker.data_dir / f"{topic}-0" / "00000000000000000000.log"
    # What the broker stored: a zstd batch from an idempotent producer (it has a producer id).
    assert [(codec, pid >= 0) for codec, pid in _batches(segment)] == [(ZSTD, True)]

    broker.restart()
    assert broker.bootstrap == bootstrap
    _produce(bootstrap, topic, _items("b", 2), "lz4")
    assert [codec for codec, _ in _batches(segment)] == [ZSTD, LZ4]

    old_pid = broker.pid
    broker.kill()
    assert not devkafka.alive(old_pid)
    assert not _port_open(broker.ports.client)
    broker.restart()
    assert [k for k, _ in _consume(bootstrap, topic, 5)] == ["a0", "a1", "a2", "b0", "b1"]

    pid = broker.pid
    broker.stop()
    assert not devkafka.alive(pid)
    assert not _port_open(broker.ports.client) and not _port_open(broker.ports.controller)
    state = json.loads((broker.workdir / devkafka.STATE_FILE).read_text())
    assert state["running"] is False and state["pid"] is None


@pytest.mark.kafka
def test_cli_start_status_stop(tmp_path: Path) -> None:
    workdir = tmp_path / "broker"
    started = _devkafka("start", "--dir", str(workdir), "--port", "0")
    try:
        assert started.returncode == 0, started.stderr
        bootstrap = started.stdout.strip()
        state = json.loads((workdir / devkafka.STATE_FILE).read_text())
        assert state["bootstrap"] == bootstrap and state["running"] is True
        assert _port_open(state["port"])
        status = _devkafka("status", "--dir", str(workdir))
        assert status.returncode == 0 and "accepting clients" in status.stdout
    finally:
        stopped = _devkafka("stop", "--dir", str(workdir))
    assert stopped.returncode == 0, stopped.stderr
    assert not devkafka.alive(state["pid"])
    assert _devkafka("status", "--dir", str(workdir)).returncode == 3


def test_stop_never_signals_a_process_it_did_not_start(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "60"])
    try:
        state = {"pid": other.pid, "port": 1, "controller_port": 2, "lib": "/nonexistent"}
        state["version"] = devkafka.KAFKA_VERSION
        (tmp_path / devkafka.STATE_FILE).write_text(json.dumps(state))
        stopped = _devkafka("stop", "--dir", str(tmp_path))
        assert stopped.returncode == 1
        assert "not signalling" in stopped.stderr
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


@pytest.mark.kafka
def test_run_exports_bootstrap_returns_command_code_and_stops_broker(tmp_path: Path) -> None:
    workdir, seen = tmp_path / "broker", tmp_path / "seen.json"
    probe = (
        "import json, os, socket, sys\n"
        "b = os.environ['NEWS_MONITOR_TEST_BOOTSTRAP']\n"
        "host, port = b.rsplit(':', 1)\n"
        "socket.create_connection((host, int(port)), timeout=5).close()\n"
        f"json.dump([b, os.environ['KAFKA_BOOTSTRAP']], open({str(seen)!r}, 'w'))\n"
        "sys.exit(3)\n"
    )
    ran = _devkafka("run", "--dir", str(workdir), "--", sys.executable, "-c", probe)
    assert ran.returncode == 3, ran.stderr
    bootstrap, kafka_bootstrap = json.loads(seen.read_text())
    state = json.loads((workdir / devkafka.STATE_FILE).read_text())
    assert bootstrap == kafka_bootstrap == state["bootstrap"]
    assert state["running"] is False
    assert not _port_open(state["port"])
    assert _brokers_started_in(workdir) == []


def test_missing_java_or_maven_is_one_line_with_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty))
    for args in (["start", "--dir", str(tmp_path / "b")], ["run", "--", "true"]):
        done = _devkafka(*args, env=env)
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1
        assert "apt-get install -y openjdk-17-jre-headless maven" in done.stderr


def test_kafka_fixture_fails_not_skips_without_java_or_maven(tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    (tmp_path / "test_uses_kafka.py").write_text("def test_x(kafka_bootstrap):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "NEWS_MONITOR_TEST_BOOTSTRAP"}
    env.update(PATH=str(empty), PYTHONPATH=str(ROOT), NEWS_MONITOR_KAFKA_CACHE=str(tmp_path / "c"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path / "test_uses_kafka.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "1 error" in done.stdout and "skipped" not in done.stdout
    assert "apt-get install -y openjdk-17-jre-headless maven" in done.stdout


@pytest.mark.kafka
def test_broker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    starter = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from devkafka import start_broker\n"
         f"print(start_broker(Path({str(tmp_path)!r})).pid, flush=True); time.sleep(600)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert starter.stdout is not None
        pid = int(starter.stdout.readline())
        assert devkafka.alive(pid)
    finally:
        starter.kill()  # SIGKILL: no finally, no atexit in the starter
        starter.wait()
    deadline = time.monotonic() + 30
    while devkafka.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not devkafka.alive(pid)


def test_scripts_under_scripts_import_the_installed_launcher() -> None:
    """A script in scripts/ (its folder first on sys.path) gets the package, not the folder."""
    probe = "import devkafka; print(devkafka.start_broker.__module__)"
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, 'scripts'); {probe}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "devkafka.broker"
