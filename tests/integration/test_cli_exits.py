"""Exit codes (0 all good, 1 some inputs failed, 2 usage or configuration) and one-line errors,
through the real CLI as a subprocess; none of these needs Kafka."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import orjson
import pytest

from monitor import __version__
from tests.integration.feedserver import FeedServer
from tests.integration.harness import SEEDS, cli
from tests.integration.test_cli import write_config


def one_line(stderr: str) -> str:
    """The whole of stderr, asserted to be one line without a traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def published_in(db: Path) -> int:
    """Items the state database records as published (0 when it does not exist)."""
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)


def test_version() -> None:
    res = cli("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"news-monitor {__version__}"


def test_bad_sink_fails_at_start_before_anything_is_recorded(tmp_path: Path) -> None:
    folder, db = tmp_path / "a-folder", tmp_path / "kept.db"
    folder.mkdir()
    res = cli("replay", str(SEEDS), "--sink", f"jsonl:{folder}", "--state", str(db))
    assert res.returncode == 2
    line = one_line(res.stderr)
    assert f"--sink jsonl:{folder}" in line and "cannot open" in line
    assert published_in(db) == 0
    # Nothing was recorded, so the same state then publishes every story.
    out = tmp_path / "out.jsonl"
    res = cli("replay", str(SEEDS), "--sink", f"jsonl:{out}", "--state", str(db))
    assert res.returncode == 0, res.stderr
    assert "published=4" in res.stderr
    assert len(out.read_bytes().splitlines()) == 5  # four stories, one updated


def test_unknown_sink_is_a_usage_error_in_one_line() -> None:
    res = cli("replay", str(SEEDS), "--sink", "kafak")
    assert res.returncode == 2
    line = one_line(res.stderr)
    assert "--sink" in line and "'kafak'" in line


def test_unwritable_explain_file_is_a_usage_error(tmp_path: Path) -> None:
    res = cli("replay", str(SEEDS), "--sink", "stdout", "--explain", str(tmp_path))
    assert res.returncode == 2
    assert res.stdout == ""
    line = one_line(res.stderr.replace(dry_run_line(res.stderr), ""))
    assert f"--explain {tmp_path}" in line


def dry_run_line(stderr: str) -> str:
    (line,) = [ln for ln in stderr.splitlines() if "dry run" in ln]
    return line


def test_dry_run_uses_a_throw_away_state_and_says_so(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)  # state.path: tmp_path/state.db
    for _ in range(2):  # a preview never spoils the next run
        res = cli("replay", str(SEEDS), "--config", str(cfg), "--sink", "stdout")
        assert res.returncode == 0, res.stderr
        assert "published=4" in res.stderr
        assert "throw-away state" in dry_run_line(res.stderr)
        assert "--state" in dry_run_line(res.stderr)
    assert not (tmp_path / "state.db").exists()
    # --state keeps one: the second run sees its own items again.
    kept = tmp_path / "kept.db"
    first = cli("replay", str(SEEDS), "--sink", "stdout", "--state", str(kept))
    again = cli("replay", str(SEEDS), "--sink", "stdout", "--state", str(kept))
    assert "published=4" in first.stderr and "duplicate=5" in again.stderr
    assert "dry run" not in first.stderr


def test_replay_of_a_missing_path_exits_1(tmp_path: Path) -> None:
    res = cli("replay", "/no/such/path", "--sink", "stdout")
    assert res.returncode == 1
    assert "rejected=1" in res.stderr


def test_inspect_of_a_missing_or_rejected_file_exits_1(tmp_path: Path) -> None:
    missing = cli("inspect", str(tmp_path / "nope.txt"), "--json")
    assert missing.returncode == 1
    assert orjson.loads(missing.stdout)["error"] == "no such file or folder"
    short = tmp_path / "short.txt"
    short.write_text("Too short\n\nOne line of text.\n", encoding="utf-8")
    rejected = cli("inspect", str(short))
    assert rejected.returncode == 1
    assert "REJECTED" in rejected.stdout and "min_chars" in rejected.stdout
    ok = cli("inspect", str(SEEDS / "001_8bc150cff370669c.txt"))
    assert ok.returncode == 0, ok.stderr


def test_run_once_with_a_dry_run_sink_previews_live_sources(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = f"http://127.0.0.1:{feed_server.server_address[1]}/feed.xml"
    cfg = write_config(
        tmp_path,
        'http:\n  allow_private: ["127.0.0.1"]\nfilters:\n  rules: []\n'
        f"sources:\n  - name: local\n    url: {url}\n    fetch_pages: false\n",
    )
    for _ in range(2):  # the feed's state (ETag) is throw-away too: both previews fetch all
        res = cli("run", "--once", "--sink", "stdout", "--config", str(cfg))
        assert res.returncode == 0, res.stderr
        values = [orjson.loads(line) for line in res.stdout.splitlines()]
        assert len({v["story_id"] for v in values}) == 3
        assert "throw-away state" in dry_run_line(res.stderr)
    assert not (tmp_path / "state.db").exists()
    assert all("If-None-Match" not in r for r in feed_server.requests)


def test_run_once_exits_1_when_every_source_failed(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the socket is closed
    cfg = write_config(
        tmp_path,
        'http:\n  allow_private: ["127.0.0.1"]\n  connect_timeout_s: 1\n'
        f"sources:\n  - name: gone\n    url: http://127.0.0.1:{port}/feed.xml\n",
    )
    res = cli("run", "--once", "--sink", "stdout", "--config", str(cfg))
    assert res.returncode == 1, res.stderr
    # The failed source is a feed's health, not an item decision: named with its error
    # in the summary and in a `feed.poll_failed` log line.
    assert "0 items: no items" in res.stderr and "rejected" not in res.stderr
    assert "1 feeds polled: failed=1" in res.stderr
    (summary,) = [ln for ln in res.stderr.splitlines() if ln.startswith("run --once: feed ")]
    assert summary.startswith("run --once: feed gone failed: network:") and str(port) in summary
    (logged,) = [orjson.loads(ln) for ln in res.stderr.splitlines() if "feed.poll_failed" in ln]
    assert logged["source"] == "gone" and logged["kind"] == "network"
    assert logged["level"] == "warning" and str(port) in logged["error"]


def test_run_sink_needs_once() -> None:
    res = cli("run", "--sink", "stdout")
    assert res.returncode == 2
    assert "--once" in one_line(res.stderr)


def test_run_with_the_metrics_port_taken_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = write_config(tmp_path, f"observe:\n  host: 127.0.0.1\n  port: {port}\n")
        res = cli("run", "--config", str(cfg))
    assert res.returncode == 2
    line = one_line("\n".join(ln for ln in res.stderr.splitlines() if "observe.port" in ln))
    assert "Traceback" not in res.stderr + res.stdout
    assert f"127.0.0.1:{port}" in line and "NEWS_MONITOR_OBSERVE__PORT" in line


def test_consume_without_a_broker_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = write_config(
        tmp_path, f"kafka:\n  bootstrap_servers: 127.0.0.1:{port}\n  connect_timeout_s: 1\n"
    )
    res = cli("consume", "--config", str(cfg), "--timeout", "1")
    assert res.returncode == 1
    line = one_line(res.stderr)
    assert f"127.0.0.1:{port}" in line and "kafka.bootstrap_servers" in line


def test_a_state_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    res = cli("replay", str(SEEDS), "--sink", "stdout", "--state", str(blocker / "s.db"))
    assert res.returncode == 2
    assert f"--state {blocker / 's.db'}" in one_line(res.stderr)
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(f"state:\n  path: {blocker / 's.db'}\n", encoding="utf-8")
    res = cli("replay", str(SEEDS), "--config", str(cfg))
    assert res.returncode == 2
    line = one_line(res.stderr)
    assert f"{cfg}: state.path:" in line and "cannot open" in line


def test_a_dry_run_sink_that_fails_while_writing_exits_1() -> None:
    res = cli("replay", str(SEEDS), "--sink", "jsonl:/dev/full")  # every write: ENOSPC
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    (line,) = [ln for ln in res.stderr.splitlines() if "writing failed" in ln]
    assert "--sink jsonl:/dev/full" in line and "No space left" in line


@pytest.mark.parametrize("command", ["replay", "run --once"])
def test_a_full_outbox_stops_the_pass_with_one_line_and_exit_1(
    tmp_path: Path, command: str
) -> None:
    """`run --once` and `replay` run the same pass: Kafka away and the outbox full stop both
    with the same one line (run --once used to end in a traceback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there: Kafka is away
    items = tmp_path / "items"
    items.mkdir()
    lines = [
        {"id": f"i{n}", "title": f"Headline number {n} about event {n * 7919}", "text": ""}
        for n in range(120)
    ]
    (items / "a.jsonl").write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    db = tmp_path / "state.db"
    cfg = write_config(
        tmp_path,
        f"kafka:\n  bootstrap_servers: 127.0.0.1:{closed}\n  request_timeout_s: 2\n"
        f"state:\n  path: {db}\n  outbox_max_messages: 100\nfilters:\n  rules: []\n"
        f"replay:\n  - name: r\n    path: {items}\n",
    )
    args = ["replay", str(items)] if command == "replay" else ["run", "--once"]
    res = cli(*args, "--config", str(cfg))
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith(f"{command}: ")]
    assert line.startswith(f"{command}: stopped: ") and "outbox" in line
