"""What the daemon says at start: the true counts, and a loud warning when it polls nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from monitor.config import DEFAULT_CONFIG, Settings
from monitor.service import announce_config
from monitor.wiring import build_worker


def worker_with(tmp_path: Path, **config: Any) -> Settings:
    return Settings(
        state={"path": tmp_path / "state.db"}, config_dir=DEFAULT_CONFIG.parent, **config
    )


def configured(registry: CollectorRegistry, kind: str) -> float | None:
    return registry.get_sample_value("news_monitor_sources_configured", {"kind": kind})


def test_two_feeds_and_a_replay_folder_are_counted(tmp_path: Path) -> None:
    settings = worker_with(
        tmp_path,
        sources=[
            {"name": "a", "url": "https://a.example/rss"},
            {"name": "b", "url": "https://b.example/rss"},
        ],
        replay=[{"name": "r", "path": str(tmp_path)}],
    )
    worker = build_worker(settings)
    try:
        with capture_logs() as logs:
            counts = announce_config(worker)
        assert counts == {"feeds": 2, "replay": 1}
        assert [e["event"] for e in logs] == []
        assert configured(worker.metrics.registry, "feed") == 2
        assert configured(worker.metrics.registry, "replay") == 1
    finally:
        worker.close()


def test_nothing_to_poll_is_logged_once_as_a_warning_and_exported(tmp_path: Path) -> None:
    from monitor.config_load import warnings

    settings = worker_with(tmp_path)
    settings = settings.model_copy(update={"warnings": tuple(warnings(settings))})
    worker = build_worker(settings)
    try:
        with capture_logs() as logs:
            counts = announce_config(worker)
        assert counts == {"feeds": 0, "replay": 0}
        assert [(e["event"], e["log_level"]) for e in logs] == [
            ("config.warning", "warning"),
            ("daemon.nothing_to_poll", "warning"),
        ]
        assert logs[0]["key"] == "sources" and "poll nothing" in logs[0]["reason"]
        assert configured(worker.metrics.registry, "feed") == 0
    finally:
        worker.close()
