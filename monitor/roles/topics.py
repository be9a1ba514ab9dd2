"""The topics the roles need, created if missing, with their partition counts checked.

The fetch group's coordination topic must have exactly `roles.fetch_partitions`
partitions (sources hash modulo that number, so any other count would leave sources
unowned or owned twice); the items topic has one partition, so one stories member
holds all of it and a second stands by. Problems are one line naming the topic and
the setting to change.
"""

from __future__ import annotations

import time

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.errors import KafkaError

from monitor.config import Settings
from monitor.publish.kafka import client_options


class RoleSetupError(RuntimeError):
    """A topic the role needs is missing and cannot be created, or has the wrong shape."""


def coordination_topic(settings: Settings) -> str:
    """The fetch group's coordination topic: `<group_prefix>-fetch-coordination`."""
    return f"{settings.roles.group_prefix}-fetch-coordination"


def ensure_role_topics(settings: Settings) -> None:
    """Create the coordination and items topics if missing; check their partition counts."""
    want = {
        coordination_topic(settings): (settings.roles.fetch_partitions, "roles.fetch_partitions"),
        settings.roles.items_topic: (1, "roles.items_topic"),
    }
    try:
        admin = KafkaAdminClient(**client_options(settings.kafka))
    except KafkaError as exc:
        raise RoleSetupError(
            "kafka.bootstrap_servers: cannot reach Kafka at"
            f" {settings.kafka.bootstrap_servers}: {exc}"
        ) from exc
    try:
        missing = sorted(set(want) - set(admin.list_topics()))
        if missing:
            spec = {
                name: {
                    "num_partitions": want[name][0],
                    "replication_factor": settings.kafka.replication_factor,
                }
                for name in missing
            }
            try:
                admin.create_topics(spec, raise_errors=True, wait_for_metadata=True)
            except KafkaError as exc:
                # Another instance starting beside this one may have created them first.
                if not set(missing) <= set(admin.list_topics()):
                    raise RoleSetupError(
                        f"cannot create topic(s) {', '.join(missing)}: {exc}"
                        " (create them by hand, or check kafka.replication_factor and the ACLs)"
                    ) from exc
        for desc in admin.describe_topics(list(want)):
            name, count = desc["name"], len(desc["partitions"])
            expected, key = want[name]
            if count != expected:
                raise RoleSetupError(
                    f"{key}: topic {name} has {count} partitions, the role needs {expected}"
                    " (change the setting, or use another topic or group_prefix)"
                )
    finally:
        admin.close()


def wait_for_metadata(consumer: KafkaConsumer, topic: str, timeout_s: float = 30.0) -> bool:
    """Wait until the consumer sees the topic's partitions, so its first join assigns them.

    A member that joins before the topic (just created by another instance) reaches its
    metadata is assigned nothing, and the group rebalances again once it does. False:
    still not seen at `timeout_s` (the member joins anyway).
    """
    deadline = time.monotonic() + timeout_s
    while not consumer.partitions_for_topic(topic):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
