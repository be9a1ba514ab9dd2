"""Dedup settings: defaults, and bad or removed keys fail at start with file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, DedupSettings, load_settings


def test_defaults() -> None:
    s = DedupSettings()
    assert s.window_hours > 0
    assert s.story_threshold is None  # the model's validated operating point


def test_bad_dedup_keys_are_reported_with_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("dedup:\n  story_threshold: 2\n  windw_hours: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    keys = {p.key for p in err.value.problems}
    assert keys == {"dedup.story_threshold", "dedup.windw_hours"}
    assert all(p.file == str(cfg) for p in err.value.problems)


def test_a_removed_key_fails_with_its_name_and_what_to_do(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("dedup:\n  member_weight: 0.5\n  novel_penalty: 0.5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    (problem,) = err.value.problems
    assert problem.key == "dedup" and problem.file == str(cfg)
    assert "member_weight, novel_penalty" in problem.reason
    assert "learned model" in problem.reason and "delete these keys" in problem.reason


def test_repository_config_loads() -> None:
    settings = load_settings()
    assert settings.dedup == DedupSettings()
