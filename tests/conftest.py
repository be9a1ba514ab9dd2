"""Shared fixtures: the real local Kafka broker (scripts/devkafka, docs/kafka.md) and kcat."""

from __future__ import annotations

import shutil

import pytest

# `kafka_bootstrap` and `kafka_broker_factory`, from the development tool devkafka.
pytest_plugins = ["devkafka.fixtures"]


@pytest.fixture(scope="session")
def kcat() -> str:
    """Path of the kcat binary (Debian package kcat); fails, never skips, when it is missing."""
    path = shutil.which("kcat")
    if path is None:
        pytest.fail("kcat not found on PATH: apt-get install -y kcat", pytrace=False)
    return path
