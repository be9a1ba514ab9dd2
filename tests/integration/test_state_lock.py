"""The state lock: one process per state database; a killed holder releases it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.lock import StateLock, StateLocked, lock_path

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_lock_is_refused_naming_path_holder_and_setting(tmp_path: Path) -> None:
    db = tmp_path / "state" / "monitor.db"
    held = StateLock.acquire(db, "monitor.yaml")
    with pytest.raises(StateLocked) as err:
        StateLock.acquire(db, "env NEWS_MONITOR_STATE__PATH")
    (problem,) = err.value.problems
    assert (problem.file, problem.key) == ("env NEWS_MONITOR_STATE__PATH", "state.path")
    assert str(db) in problem.reason and str(lock_path(db)) in problem.reason
    assert "state.path (NEWS_MONITOR_STATE__PATH)" in problem.reason
    assert "\n" not in str(err.value)
    held.release()
    held.release()
    StateLock.acquire(db, "monitor.yaml").release()


def test_kill_9_of_the_holder_releases_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from monitor.lock import StateLock;"
            f" StateLock.acquire(Path({str(db)!r}), 'x'); print('held', flush=True);"
            " time.sleep(300)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(StateLocked) as err:
            StateLock.acquire(db, "monitor.yaml")
        assert f"pid {holder.pid}" in err.value.problems[0].reason
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    StateLock.acquire(db, "monitor.yaml").release()
