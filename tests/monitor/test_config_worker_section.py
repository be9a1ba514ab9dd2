"""The `worker` section: how many processes do the per-item work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.config import ConfigError
from monitor.config_load import load


def test_processes_defaults_to_the_cpu_count(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("{}\n", encoding="utf-8")
    assert load(cfg, {}).worker.processes == (os.cpu_count() or 1)


def test_processes_from_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("{}\n", encoding="utf-8")
    assert load(cfg, {"NEWS_MONITOR_WORKER__PROCESSES": "1"}).worker.processes == 1


def test_zero_processes_is_an_error_naming_the_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("worker:\n  processes: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load(cfg, {})
    (problem,) = [str(p) for p in err.value.problems]
    assert problem.startswith(f"{cfg}: worker.processes: ")
    assert "greater than or equal to 1" in problem
