"""Shared fixtures: the real local Kafka broker (see monitor/devkafka.py and docs/kafka.md)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor import devkafka

BOOTSTRAP_ENV = "NEWS_MONITOR_TEST_BOOTSTRAP"


def _start(workdir: Path, port: int = 0) -> devkafka.Broker:
    try:
        return devkafka.start_broker(workdir, port)
    except devkafka.DevKafkaError as exc:
        # Never skip: a test run without its broker must fail, saying what to install.
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session broker's bootstrap: $NEWS_MONITOR_TEST_BOOTSTRAP, else a broker we start."""
    given = os.environ.get(BOOTSTRAP_ENV)
    if given:
        yield given
        return
    with _start(tmp_path_factory.mktemp("kafka")) as broker:
        yield broker.bootstrap


@pytest.fixture
def kafka_broker_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., devkafka.Broker]]:
    """Start private brokers a test may stop, kill or restart; all are stopped at teardown."""
    started: list[devkafka.Broker] = []

    def factory(port: int = 0) -> devkafka.Broker:
        broker = _start(tmp_path_factory.mktemp("kafka-private"), port)
        started.append(broker)
        return broker

    yield factory
    for broker in started:
        broker.stop()


@pytest.fixture(scope="session")
def kcat() -> str:
    """Path of the kcat binary (Debian package kcat); fails, never skips, when it is missing."""
    path = shutil.which("kcat")
    if path is None:
        pytest.fail("kcat not found on PATH: apt-get install -y kcat", pytrace=False)
    return path
