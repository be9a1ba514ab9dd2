"""The progress line: pure formatting, and shown only when stderr is a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

from monitor.progress import Progress, format_duration, format_progress

ROOT = Path(__file__).resolve().parents[2]


def test_format_with_a_total_gives_rate_and_time_left() -> None:
    assert format_progress(250, 1000, 2.0) == "250/1,000 items (25%)  125 items/s  6s left"
    assert format_progress(1000, 1000, 4.0) == "1,000/1,000 items (100%)  250 items/s"


def test_format_without_a_total_or_time() -> None:
    assert format_progress(12, None, 3.0) == "12 items  4 items/s"
    assert format_progress(0, 10, 0.0) == "0/10 items (0%)  0 items/s"


def test_format_bytes_in_mib() -> None:
    mib = 1024 * 1024
    line = format_progress(10 * mib, 40 * mib, 5.0, unit="bytes")
    assert line == "10.0/40.0 MiB (25%)  2.0 MiB/s  15s left"


def test_durations() -> None:
    assert [format_duration(s) for s in (0, 59.4, 61, 3599, 3600, 7384)] == [
        "0s",
        "59s",
        "1m01s",
        "59m59s",
        "1h00m",
        "2h03m",
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_written_to_a_pipe_or_file() -> None:
    out = io.StringIO()
    progress = Progress("replay", total=10, stream=out)
    for _ in range(10):
        progress.advance()
    progress.close()
    assert not progress.enabled and out.getvalue() == ""


def _read_all(master: int) -> str:
    """Everything written to the closed terminal (a pty hands it over in chunks)."""
    chunks = []
    try:
        while chunk := os.read(master, 4096):
            chunks.append(chunk)
    except OSError:  # EIO: the other side is closed and all is read
        pass
    os.close(master)
    return b"".join(chunks).decode()


def test_a_terminal_gets_a_redrawn_line_then_erased() -> None:
    master, slave = os.openpty()
    clock = Clock()
    with open(slave, "w", encoding="utf-8", closefd=True) as tty:
        progress = Progress("replay", total=4, stream=tty, clock=clock, every_s=1.0)
        assert progress.enabled
        progress.advance()  # the first draw is immediate
        clock.now = 0.5
        progress.advance()  # too soon: not drawn
        clock.now = 1.0
        progress.advance()
        progress.close()
    written = _read_all(master)
    draws = [part for part in written.split("\r") if part.strip()]
    assert [d.split("  ")[0] for d in draws] == [
        "replay: 1/4 items (25%)",
        "replay: 3/4 items (75%)",
    ]
    assert written.endswith("\r")  # erased: the summary line starts clean


def _replay(stderr: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "monitor", "replay", str(ROOT / "seeds"), "--sink", "stdout"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        timeout=120,
        env={
            "PYTHONPATH": str(ROOT),
            "PATH": "/usr/bin:/bin",
            "NEWS_MONITOR_LOGGING__LEVEL": "WARNING",
        },
        check=False,
    )


def test_replay_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    master, slave = os.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the terminal closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    _replay(slave)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    shown = b"".join(chunks).decode()
    assert "\rreplay: 1/5 items (20%)" in shown and "items/s" in shown

    piped = tmp_path / "stderr.txt"
    with piped.open("wb") as f:
        _replay(f.fileno())
    text = piped.read_text()
    assert "\r" not in text and "items/s" not in text
    assert "replay: 5 items" in text


def test_maven_download_lines_give_the_bytes_for_the_jar_progress() -> None:
    from devkafka.maven import maven_download_bytes

    base = "https://repo.maven.apache.org/maven2/org/apache/kafka"
    assert (
        maven_download_bytes(
            f"Downloaded from central: {base}/kafka-clients/4.3.1/kafka-clients-4.3.1.jar"
            " (8.6 MB at 12 MB/s)"
        )
        == 8_600_000
    )
    assert (
        maven_download_bytes(f"Downloaded from central: {base}/x.pom (2.1 kB at 9.5 kB/s)") == 2100
    )
    assert maven_download_bytes(f"Downloading from central: {base}/x.pom") is None
    assert maven_download_bytes("[INFO] BUILD SUCCESS") is None
