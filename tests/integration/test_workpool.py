"""The worker pool's plumbing with real worker processes: order, errors, killed workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.model import WorkerStopped
from monitor.workpool import Done, Failed, WorkPool, chunk_size

ROOT = Path(__file__).resolve().parents[2]


def square(n: int) -> int:
    return n * n


def fail_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three is\nbad")
    return n


def pid_of(_: int) -> int:
    return os.getpid()


def die_once(arg: tuple[int, str]) -> int:
    """Kill -9 its own process the first time it sees item 2 (marker file), then work."""
    n, marker = arg
    if n == 2 and not Path(marker).exists():
        Path(marker).write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return n * 10


def always_die(n: int) -> int:
    if n == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


@pytest.mark.parametrize("processes", [1, 2])
def test_results_come_back_in_order(processes: int) -> None:
    with WorkPool(processes) as pool:
        assert list(pool.map(square, range(50))) == [Done(n * n) for n in range(50)]


@pytest.mark.parametrize("processes", [1, 2])
def test_an_items_error_is_a_failed_value_and_the_rest_go_on(processes: int) -> None:
    with WorkPool(processes) as pool:
        out = list(pool.map(fail_on_three, range(5)))
    assert out == [Done(0), Done(1), Done(2), Failed("ValueError: three is bad"), Done(4)]


def test_two_processes_do_the_work_outside_this_one() -> None:
    with WorkPool(2) as pool:
        pids = {o.value for o in pool.map(pid_of, range(20)) if isinstance(o, Done)}
    assert os.getpid() not in pids
    assert pids


def test_a_killed_worker_is_replaced_and_its_item_retried(tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    with WorkPool(2) as pool:
        out = list(pool.map(die_once, [(n, marker) for n in range(6)]))
        assert pool.restarts == 1
        assert list(pool.map(square, [7])) == [Done(49)]  # the replaced pool works
    assert out == [Done(n * 10) for n in range(6)]


def test_an_item_that_kills_its_worker_twice_fails_with_a_clear_error() -> None:
    with WorkPool(2) as pool:
        out = list(pool.map(always_die, [0, 1, 2]))
    assert out[0] == Done(0)
    assert out[1] == Failed("worker process died twice while processing this item")
    assert out[2] == Done(2)


def test_processes_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"worker\.processes"):
        WorkPool(0)


def raise_value_error(n: int) -> int:
    raise ValueError(f"bad {n}")


SCRIPT = """
import os
with open(os.environ["MARKER"], "a") as marker:
    marker.write(__name__ + "\\n")
if __name__ == "__main__":
    from monitor.workpool import WorkPool, _ready
    with WorkPool(2) as pool:
        pool.start()
        pool.call(_ready, 0)
"""


def test_workers_do_not_run_the_parents_main_module(tmp_path: Path) -> None:
    """A spawned worker imports the function's module, never the parent's script (the CLI)."""
    script, marker = tmp_path / "parent.py", tmp_path / "marker"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "MARKER": str(marker), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=60)
    assert marker.read_text() == "__main__\n"


def test_call_runs_one_item_in_a_worker_and_raises_its_error() -> None:
    with WorkPool(2) as pool:
        assert pool.call(pid_of, 0) != os.getpid()
        with pytest.raises(ValueError, match="bad 3"):
            pool.call(raise_value_error, 3)


def test_a_closed_pool_refuses_work_with_worker_stopped() -> None:
    pool = WorkPool(2)
    pool.start()
    pool.close()
    with pytest.raises(WorkerStopped):
        pool.call(square, 2)
    with pytest.raises(WorkerStopped):
        list(pool.map(square, [1, 2]))


def test_start_reports_the_worker_pids() -> None:
    with WorkPool(2) as pool:
        pids = pool.start()
        assert len(pids) == 2 and os.getpid() not in pids
        assert pool.pids() == pids


def test_batches_started_ahead_come_back_whole_and_in_order() -> None:
    with WorkPool(2) as pool:
        first = pool.start_map(square, range(40))
        second = pool.start_map(square, range(40, 100))
        assert [o for o in second.outcomes()] == [Done(n * n) for n in range(40, 100)]
        assert [o for o in first.outcomes()] == [Done(n * n) for n in range(40)]


@pytest.mark.parametrize(
    ("items", "processes", "size"),
    [(1, 2, 1), (3, 2, 2), (4, 2, 2), (32, 2, 16), (64, 2, 16), (1000, 2, 16)],
)
def test_chunks_are_one_per_worker_and_bounded(items: int, processes: int, size: int) -> None:
    assert chunk_size(items, processes) == size


PARENT = """
import sys, time
from monitor.workpool import WorkPool
pool = WorkPool(2)
print(*pool.start(), flush=True)
time.sleep(120)
"""


def test_workers_exit_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        assert not [p for p in pids if _alive(p)]
    finally:
        if parent.poll() is None:
            parent.kill()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
