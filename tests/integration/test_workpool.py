"""The worker pool's plumbing with real worker processes: order, errors, a killed worker."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from monitor.workpool import Done, Failed, WorkPool


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
