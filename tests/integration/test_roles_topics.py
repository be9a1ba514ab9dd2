"""The roles' topics against the real broker: created with their partitions, shape checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaAdminClient

from monitor.config import Settings
from monitor.config_load import load
from monitor.roles.topics import RoleSetupError, coordination_topic, ensure_role_topics


def _settings(tmp_path: Path, bootstrap: str, prefix: str, items: str, partitions: int) -> Settings:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"kafka:\n  bootstrap_servers: '{bootstrap}'\n"
        f"roles:\n  group_prefix: {prefix}\n  items_topic: {items}\n"
        f"  fetch_partitions: {partitions}\n",
        encoding="utf-8",
    )
    return load(cfg, {})


def _partitions(bootstrap: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=[bootstrap])
    try:
        (desc,) = admin.describe_topics([topic])
        return len(desc["partitions"])
    finally:
        admin.close()


def test_missing_topics_are_created_with_their_partitions(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    settings = _settings(tmp_path, kafka_bootstrap, "rt1", "rt1.items", 5)
    ensure_role_topics(settings)
    ensure_role_topics(settings)  # a second start finds them and is content
    assert _partitions(kafka_bootstrap, coordination_topic(settings)) == 5
    assert _partitions(kafka_bootstrap, "rt1.items") == 1


def test_a_coordination_topic_of_another_size_names_the_setting(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    ensure_role_topics(_settings(tmp_path, kafka_bootstrap, "rt2", "rt2.items", 3))
    with pytest.raises(
        RoleSetupError,
        match=r"^roles\.fetch_partitions: topic rt2-fetch-coordination has 3 partitions,"
        r" the role needs 4",
    ):
        ensure_role_topics(_settings(tmp_path, kafka_bootstrap, "rt2", "rt2.items", 4))
