"""The roles section: defaults, and problems named by file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError
from monitor.config_load import load


def test_defaults_name_the_items_topic_and_groups(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("{}\n", encoding="utf-8")
    roles = load(cfg, {}).roles
    assert (roles.items_topic, roles.group_prefix, roles.fetch_partitions) == (
        "news.items",
        "news-monitor",
        12,
    )


def test_heartbeats_that_do_not_fit_the_session_are_a_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("roles:\n  session_timeout_ms: 6000\n  heartbeat_interval_ms: 3000\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load(cfg, {})
    (problem,) = [str(p) for p in err.value.problems]
    assert problem.startswith(f"{cfg}: roles")
    assert "heartbeat_interval_ms must be at most a third of session_timeout_ms" in problem


def test_zero_fetch_partitions_from_the_environment_is_blamed_on_the_variable(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("{}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load(cfg, {"NEWS_MONITOR_ROLES__FETCH_PARTITIONS": "0"})
    (problem,) = [str(p) for p in err.value.problems]
    assert problem.startswith("env NEWS_MONITOR_ROLES__FETCH_PARTITIONS: roles.fetch_partitions: ")
