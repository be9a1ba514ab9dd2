"""Pytest fixtures for the real local broker; tests/conftest.py loads them as a plugin.

`kafka_bootstrap` (session): `$NEWS_MONITOR_TEST_BOOTSTRAP` when set (as `python -m devkafka
run` sets it), else a broker started for the session. `kafka_broker_factory`: private
brokers a test may stop, kill or restart. A test that needs Kafka fails, never skips, when
the broker cannot be started.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devkafka.broker import Broker, start_broker
from devkafka.tools import DevKafkaError

BOOTSTRAP_ENV = "NEWS_MONITOR_TEST_BOOTSTRAP"


def _start(workdir: Path, port: int = 0) -> Broker:
    try:
        return start_broker(workdir, port)
    except DevKafkaError as exc:
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
) -> Iterator[Callable[..., Broker]]:
    """Start private brokers a test may stop, kill or restart; all are stopped at teardown."""
    started: list[Broker] = []

    def factory(port: int = 0) -> Broker:
        broker = _start(tmp_path_factory.mktemp("kafka-private"), port)
        started.append(broker)
        return broker

    yield factory
    for broker in started:
        broker.stop()
