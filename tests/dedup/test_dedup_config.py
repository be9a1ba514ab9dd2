"""Dedup settings: defaults, and bad values fail at start with file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, DedupSettings, load_settings


def test_defaults() -> None:
    s = DedupSettings()
    assert s.window_hours == 72
    assert 0 < s.story_threshold <= 1


def test_bad_dedup_keys_are_reported_with_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("dedup:\n  story_threshold: 2\n  windw_hours: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    keys = {p.key for p in err.value.problems}
    assert keys == {"dedup.story_threshold", "dedup.windw_hours"}
    assert all(p.file == str(cfg) for p in err.value.problems)


def test_repository_config_loads() -> None:
    settings = load_settings()
    assert settings.dedup.window_hours == 72
