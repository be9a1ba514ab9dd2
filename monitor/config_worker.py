"""The config's base section and the worker's own sections: Kafka, state, logging, observe.

`monitor.config` assembles these with the stages' sections into `Settings`; import them
from there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class Section(BaseModel):
    """Base for config sections: frozen, and unknown keys are errors (typos)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(Section):
    """Where and how stories are published."""

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "news.stories"
    deadletter_topic: str = "news.deadletter"
    partitions: int = Field(default=3, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    compression: Literal["zstd", "lz4", "gzip", "none"] = "zstd"
    client_id: str = "news-monitor"
    connect_timeout_s: float = Field(default=10.0, gt=0)
    """How long to wait for the first broker answer before Kafka counts as unreachable."""
    linger_ms: int = Field(default=20, ge=0)
    delivery_timeout_s: float = Field(default=120.0, gt=0)
    """How long the producer keeps retrying a message before it counts as failed."""
    request_timeout_s: float = Field(default=30.0, gt=0)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None

    @model_validator(mode="after")
    def _delivery_outlasts_requests(self) -> KafkaSettings:
        # kafka-python refuses to start otherwise; say so at start, with the keys.
        if self.delivery_timeout_s * 1000 <= self.linger_ms + self.request_timeout_s * 1000:
            raise ValueError(
                "delivery_timeout_s must be greater than linger_ms/1000 + request_timeout_s"
                f" ({self.delivery_timeout_s} <= {self.linger_ms / 1000}"
                f" + {self.request_timeout_s})"
            )
        return self


class StateSettings(Section):
    """Where the worker keeps its state (dedup index, feed state, outbox)."""

    path: Path = Path("state/monitor.db")
    outbox_max_messages: int = Field(default=100_000, ge=100)
    """Bound on messages waiting for Kafka; past it the worker stops taking items."""


class LogSettings(Section):
    """Logging: JSON lines when stdout is not a terminal, readable lines when it is."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"
    library_repeat_s: float = Field(default=30.0, ge=0)
    """A library's repeated warning (kafka-python retrying a lost broker many times a
    second) is logged once per this many seconds, with the count of the lines held back;
    0 logs every line."""


class WorkerSettings(Section):
    """How many processes do the per-item CPU work (parsing, extraction, cleaning, filters)."""

    processes: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    """Worker processes; 1 does the work in the daemon's own process."""


class ObserveSettings(Section):
    """The HTTP endpoint for Prometheus and probes: /metrics, /healthz, /readyz."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9180, ge=0, le=65535)
    """0 picks a free port (tests)."""


class RoleSettings(Section):
    """Running by role over Kafka (`run --role fetch|stories`): topics and groups."""

    items_topic: str = Field(default="news.items", min_length=1)
    """Where fetch instances publish items for the story tier (key = source name)."""
    fetch_partitions: int = Field(default=12, ge=1)
    """Partitions of the fetch group's coordination topic: at most this many fetch
    instances share the sources (more stand idle)."""
    group_prefix: str = Field(default="news-monitor", min_length=1)
    """Consumer groups are `<prefix>-fetch` and `<prefix>-stories`."""
    instance_id: str | None = None
    """This instance's name in its logs (`fetch.instance`); None: host name and process id."""
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    """How long a silent member stays in its group before its share moves to the others."""
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)

    @model_validator(mode="after")
    def _heartbeats_fit_the_session(self) -> RoleSettings:
        if self.heartbeat_interval_ms * 3 > self.session_timeout_ms:
            raise ValueError(
                "heartbeat_interval_ms must be at most a third of session_timeout_ms"
                f" ({self.heartbeat_interval_ms} * 3 > {self.session_timeout_ms})"
            )
        return self
