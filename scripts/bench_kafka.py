"""Measure the local broker: start, stop and restart times and its memory (RSS). Run by hand.

.venv/bin/python scripts/bench_kafka.py [--rounds 3] [--messages 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import devkafka
from kafka import KafkaProducer


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(action: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def produce(bootstrap: str, count: int) -> float:
    """Send `count` 1 KiB zstd messages (idempotent, acks=all); return seconds."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", compression_type="zstd"
    )
    value = (b"North Korean troops were reported near Kursk. " * 23)[:1024]
    start = time.perf_counter()
    for i in range(count):
        producer.send("bench.stories", key=str(i % 500).encode(), value=value)
    producer.flush()
    took = time.perf_counter() - start
    producer.close()
    return took


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    fetch = timed(devkafka.fetch)
    starts, stops, rss_idle = [], [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            broker = devkafka.start_broker(Path(tmp))
            starts.append(time.perf_counter() - began)
            rss_idle.append(rss_mib(broker.pid))
            stops.append(timed(broker.stop))
    with tempfile.TemporaryDirectory() as tmp:
        broker = devkafka.start_broker(Path(tmp))
        send = produce(broker.bootstrap, args.messages)
        rss_busy = rss_mib(broker.pid)
        restart = timed(broker.restart)
        broker.kill()
        crash_restart = timed(broker.restart)
        broker.stop()
    load = os.getloadavg()[0]
    print(f"Kafka {devkafka.KAFKA_VERSION}, {os.cpu_count()} cores, load average {load:.1f}")
    print(f"fetch (cached): {fetch:.2f}s")
    print(f"start to ready (format + broker), {args.rounds} rounds: median "
          f"{statistics.median(starts):.1f}s, max {max(starts):.1f}s")  # fmt: skip
    print(f"stop (SIGTERM, clean shutdown): median {statistics.median(stops):.2f}s")
    print(f"RSS after start: median {statistics.median(rss_idle):.0f} MiB")
    print(f"produce {args.messages} x 1 KiB zstd: {send:.1f}s "
          f"({args.messages / send:.0f} msg/s); RSS then {rss_busy:.0f} MiB")  # fmt: skip
    print(f"restart (stop + start, same data): {restart:.1f}s")
    print(f"restart after kill -9: {crash_restart:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
