"""`news-monitor check-config` through the real CLI: every problem with its origin, exit 0/2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check_config(cfg: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "check-config", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **env},
    )


def test_check_config_lists_file_env_rule_and_source_problems_and_exits_2(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        "kafka:\n  partitions: 0\n"
        "filters:\n  rules:\n    - {name: broken, query: '(troops AND'}\n"
        "sources:\n  - {name: lan, url: 'http://192.168.1.10/rss'}\n",
        encoding="utf-8",
    )
    res = check_config(cfg, NEWS_MONITOR_KAFAK__TOPIC="x", NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVER="y")
    assert res.returncode == 2, res.stderr
    lines = res.stderr.splitlines()
    assert f"{cfg}: kafka.partitions: Input should be greater than or equal to 1" in lines
    assert any(
        line.startswith("env NEWS_MONITOR_KAFAK__TOPIC: kafak.topic: unknown section")
        for line in lines
    )
    assert any(
        line.startswith("env NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVER: kafka.bootstrap_server: ")
        for line in lines
    )
    assert any(line.startswith(f"{cfg}: filters.rules.0.query: rule 'broken'") for line in lines)
    assert any(
        line.startswith(f"{cfg}: sources.0.url: private address 192.168.1.10") for line in lines
    )
    assert lines[-1] == f"check-config: {cfg}: 5 problem(s)"
    assert res.stdout == ""


def test_check_config_ok_exits_0_and_warns_when_nothing_is_polled(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("kafka:\n  topic: t\n", encoding="utf-8")
    res = check_config(cfg)
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"check-config: {cfg}: OK\n"
    assert res.stderr.startswith(f"warning: {cfg}: sources: no sources and no replay folders")


def test_check_config_of_an_empty_file_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("\n# to do\n", encoding="utf-8")
    res = check_config(cfg)
    assert res.returncode == 2
    assert res.stderr.startswith(f"{cfg}: -: the file is empty")
