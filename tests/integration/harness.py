"""What the integration tests share: the real CLI as a subprocess, a daemon process that is
always killed at the end, local HTTP servers in a thread, the topic read back, waits."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import HTTPServer
from pathlib import Path
from typing import Any, TypeVar

import orjson
from kafka import KafkaConsumer, TopicPartition

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
CONSOLE_SCRIPT = Path(sys.executable).with_name("news-monitor")
"""The installed console script of the interpreter running the tests."""

Server = TypeVar("Server", bound=HTTPServer)


def monitor_env(
    bootstrap: str | None = None, *, checkout: bool = True, **extra: str
) -> dict[str, str]:
    """The environment of a CLI run: no NEWS_MONITOR_* variable of the caller's shell, this
    checkout on PYTHONPATH (`checkout=False`: the installed package alone), the broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_MONITOR_")}
    env.pop("PYTHONPATH", None)
    if checkout:
        env["PYTHONPATH"] = str(ROOT)
    if bootstrap is not None:
        env["NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS"] = bootstrap
    return {**env, **extra}


def monitor(*args: str) -> list[str]:
    """`python -m monitor ARGS` with the interpreter running the tests."""
    return [sys.executable, "-m", "monitor", *args]


def cli(
    *args: str,
    bootstrap: str | None = None,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m monitor ARGS` to the end; `env` replaces `monitor_env(bootstrap)`."""
    return subprocess.run(
        monitor(*args),
        cwd=cwd,
        env=env if env is not None else monitor_env(bootstrap),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def process(
    command: Sequence[str], log: Path, env: dict[str, str], cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running process with stdout and stderr appended to `log`; killed on exit."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


@contextmanager
def daemon(
    cfg: Path, bootstrap: str, log: Path, *args: str, **extra_env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m monitor run --config CFG ARGS` with JSON logs, killed on exit."""
    env = monitor_env(bootstrap, NEWS_MONITOR_LOGGING__FORMAT="json", **extra_env)
    with process(monitor("run", *args, "--config", str(cfg)), log, env) as proc:
        yield proc


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    """Serve `server` from a daemon thread until the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def read_topic(bootstrap: str, topic: str) -> list[tuple[dict[str, object], bytes | None]]:
    """Every message on the topic (value, message_id header), from the beginning."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000
    )
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not parts:
            return []  # the worker has not created the topic yet
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        out = []
        for record in consumer:
            header = dict(record.headers or []).get("message_id")
            out.append((orjson.loads(record.value), header))
        return out
    finally:
        consumer.close()


def wait_for(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `check` until it holds; fail after `timeout` s, or at once if `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process exited ({proc.returncode}) before {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def log_events(log: Path, name: str | None = None) -> list[dict[str, Any]]:
    """The JSON log lines of `log` (those of event `name` when given), in order."""
    lines = log.read_bytes().splitlines() if log.exists() else []
    needle = f'"{name}"'.encode() if name is not None else b""
    out = []
    for line in lines:
        if line.startswith(b"{") and needle in line:
            event = orjson.loads(line)
            if name is None or event.get("event") == name:
                out.append(event)
    return out
