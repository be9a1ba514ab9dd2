"""The real daemon against the real broker: it says what it polls, and holds its state.

A daemon with nothing to poll warns once at start and exports 0 sources on /metrics;
a second `run`, a `run --once` or a Kafka `replay` on its state database is refused
with one line naming the database and the setting; after `kill -9` the state is free.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.harness import ROOT, monitor, monitor_env
from tests.integration.harness import cli as run_cli
from tests.integration.harness import log_events as events

pytestmark = pytest.mark.kafka


def env(bootstrap: str, **extra: str) -> dict[str, str]:
    return monitor_env(bootstrap, NEWS_MONITOR_LOGGING__FORMAT="json", **extra)


def cli(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=environ, timeout=120)


def wait_for_event(log: Path, name: str, proc: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = events(log, name)
        if found:
            return found[0]
        assert proc.poll() is None, log.read_text(encoding="utf-8")
        time.sleep(0.2)
    raise AssertionError(f"no {name} in {log.read_text(encoding='utf-8')}")


def test_an_idle_daemon_says_so_and_holds_its_state(kafka_bootstrap: str, tmp_path: Path) -> None:
    db = tmp_path / "state" / "monitor.db"
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(f"state:\n  path: {db}\nobserve:\n  port: 0\n", encoding="utf-8")
    log = tmp_path / "daemon.log"
    environ = env(kafka_bootstrap)
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            monitor("run", "--config", str(cfg)),
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        started = wait_for_event(log, "daemon.started", daemon)
        assert (started["feeds"], started["replay"]) == (0, 0)
        names = [e["event"] for e in events(log)]
        assert names.count("daemon.nothing_to_poll") == 1
        assert names.index("daemon.nothing_to_poll") < names.index("daemon.started")
        url = str(wait_for_event(log, "observe.started", daemon)["url"])
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        assert 'news_monitor_sources_configured{kind="feed"} 0.0' in metrics
        assert 'news_monitor_sources_configured{kind="replay"} 0.0' in metrics

        refused = [
            cli("run", "--config", str(cfg), environ=environ),
            cli("run", "--once", "--config", str(cfg), environ=environ),
            cli("replay", str(ROOT / "seeds"), "--config", str(cfg), environ=environ),
        ]
        for res in refused:
            assert res.returncode == 2, res.stderr
            (line,) = res.stderr.splitlines()
            assert line.startswith(f"config error: {cfg}: state.path: {db} is in use")
            assert f"pid {daemon.pid}" in line and "NEWS_MONITOR_STATE__PATH" in line
        # The same database named by the environment: the variable is the origin.
        other = tmp_path / "other.yaml"
        other.write_text("observe:\n  enabled: false\n", encoding="utf-8")
        res = cli(
            "run", "--once", "--config", str(other),
            environ=env(kafka_bootstrap, NEWS_MONITOR_STATE__PATH=str(db)),
        )  # fmt: skip
        assert res.returncode == 2
        assert re.match(r"config error: env NEWS_MONITOR_STATE__PATH: state\.path: ", res.stderr)
    finally:
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(30)
    # kill -9 released the lock: the next run takes the state.
    res = cli("run", "--once", "--config", str(cfg), environ=environ)
    assert res.returncode == 0, res.stderr
