"""The Kafka sink: kafka-python producer with acks=all, idempotence and compression."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from monitor.config import KafkaSettings
from monitor.publish.message import OutMessage
from monitor.publish.sinks import DeliveryError

BATCH_BYTES = 256 * 1024
"""Producer batch per partition. kafka-python's default (16 KB) holds three story
messages (~5 KB each): a request and a zstd call per three messages cost ~0.4 ms CPU
a message; 256 KB batches cost ~0.08 ms (`scripts/bench.py --only text`)."""


def client_options(settings: KafkaSettings) -> dict[str, Any]:
    """Connection options shared by producer, consumer and admin (TLS/SASL included)."""
    opts: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "client_id": settings.client_id,
        "security_protocol": settings.security_protocol,
        "bootstrap_timeout_ms": int(settings.connect_timeout_s * 1000),
    }
    if settings.sasl_mechanism:
        opts["sasl_mechanism"] = settings.sasl_mechanism
        opts["sasl_plain_username"] = settings.sasl_username
        if settings.sasl_password is not None:
            opts["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    if settings.ssl_cafile:
        opts["ssl_cafile"] = settings.ssl_cafile
    return opts


def ensure_topics(settings: KafkaSettings, topics: Iterable[str]) -> list[str]:
    """Create the topics that are missing, with the configured partitions; return those created."""
    admin = KafkaAdminClient(**client_options(settings))
    try:
        existing = set(admin.list_topics())
        missing = sorted(set(topics) - existing)
        if missing:
            spec = {
                name: {
                    "num_partitions": settings.partitions,
                    "replication_factor": settings.replication_factor,
                }
                for name in missing
            }
            admin.create_topics(spec, raise_errors=False, wait_for_metadata=True)
        return missing
    finally:
        admin.close()


class KafkaSink:
    """Publishes messages; delivery results come back through `acked()` and `failed()`."""

    def __init__(self, settings: KafkaSettings, topics: Iterable[str] = ()) -> None:
        ensure_topics(settings, {settings.topic, settings.deadletter_topic, *topics})
        compression = None if settings.compression == "none" else settings.compression
        self._producer = KafkaProducer(
            **client_options(settings),
            acks="all",
            enable_idempotence=True,
            compression_type=compression,
            linger_ms=settings.linger_ms,
            batch_size=BATCH_BYTES,
            delivery_timeout_ms=int(settings.delivery_timeout_s * 1000),
            request_timeout_ms=int(settings.request_timeout_s * 1000),
            # Never block the worker long on a missing broker: the outbox holds the message.
            max_block_ms=5000,
        )
        self._lock = threading.Lock()
        self._acked: list[str] = []
        self._failed: list[tuple[str, str]] = []

    def send(self, message: OutMessage) -> None:
        """Queue one message; its id comes back from `acked()` once Kafka has it."""
        future = self._producer.send(
            message.topic,
            key=message.key.encode("utf-8"),
            value=message.value,
            headers=[("message_id", message.message_id.encode("ascii"))],
        )
        mid = message.message_id
        future.add_callback(lambda _meta: self._done(mid, None))
        future.add_errback(lambda exc: self._done(mid, exc))

    def _done(self, message_id: str, exc: BaseException | None) -> None:
        # Runs on the producer's I/O thread.
        with self._lock:
            if exc is None:
                self._acked.append(message_id)
            else:
                self._failed.append((message_id, f"{type(exc).__name__}: {exc}"))

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued message is acknowledged or has failed."""
        try:
            self._producer.flush(timeout=timeout)
        except KafkaError as exc:
            raise DeliveryError(f"flush failed: {exc}") from exc

    def acked(self) -> list[str]:
        """Return (and forget) the ids Kafka acknowledged since the last call."""
        with self._lock:
            out, self._acked = self._acked, []
        return out

    def failed(self) -> list[tuple[str, str]]:
        """Return (and forget) the messages whose delivery failed since the last call."""
        with self._lock:
            out, self._failed = self._failed, []
        return out

    def close(self, timeout: float | None = 5.0) -> None:
        """Flush (up to `timeout`) and close the producer; the outbox keeps what is unsent."""
        self._producer.close(timeout=timeout)
