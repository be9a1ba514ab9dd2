"""The installed `news-monitor` without Kafka: HTML pages, exit codes, sinks that cannot work.

Exit codes: 0 all good; 1 some inputs failed; 2 usage or configuration errors.
Assertions are on exit codes and output content, not on message wording.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.installed import site
from tests.integration.installed.dockerfile import ROOT
from tests.integration.installed.product import Installed

SEEDS = ROOT / "seeds"
SEED_NAMES = {p.name for p in SEEDS.glob("*.txt")}
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def messages(path: Path) -> list[dict[str, Any]]:
    """The message values a jsonl sink wrote."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr


@pytest.fixture
def page(workdir: Path) -> Path:
    path = workdir / "north-korea.html"
    path.write_text(site.article_page(1), encoding="utf-8")
    return path


def test_the_console_script_runs_the_installed_package(installed: Installed, workdir: Path) -> None:
    python = installed.venv / "bin" / "python"
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import monitor, connectors; print(monitor.__file__, connectors.__file__)",
        ],
        cwd=workdir,
        env=installed.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    for path in where.stdout.split():
        assert Path(path).is_relative_to(installed.venv), path
    done = installed.run("--help", cwd=workdir)
    assert done.returncode == EXIT_OK, done.stderr
    assert "replay" in done.stdout and "inspect" in done.stdout


def test_inspect_an_html_page(installed: Installed, workdir: Path, page: Path) -> None:
    done = installed.run("inspect", page.name, cwd=workdir)
    assert done.returncode == EXIT_OK, done.stderr
    text = done.stdout.split("--- text ---", 1)[-1].split("--- removed", 1)[0]
    for paragraph in site.PARAGRAPHS[1]:
        assert paragraph in text
    assert "Subscribe to our newsletter" not in text


def test_replay_an_html_page(installed: Installed, workdir: Path, page: Path) -> None:
    out = workdir / "out.jsonl"
    done = installed.run("replay", page.name, "--no-filter", "--sink", f"jsonl:{out}", cwd=workdir)
    assert done.returncode == EXIT_OK, done.stderr
    found = messages(out)
    assert len(found) == 1, done.stderr
    [message] = found
    assert message["article"]["title"] == site.TITLES[1]
    assert all(p in message["article"]["text"] for p in site.PARAGRAPHS[1])
    assert site.FOOTER not in message["article"]["text"]


@pytest.mark.parametrize("kind", ["missing", "rejected"])
def test_inspect_of_a_file_it_cannot_use_exits_1(
    installed: Installed, workdir: Path, kind: str
) -> None:
    target = workdir / "short.txt"
    if kind == "rejected":
        target.write_text("Too short to be an article.\n", encoding="utf-8")
    done = installed.run("inspect", target.name, cwd=workdir)
    assert done.returncode == EXIT_FAIL, (done.stdout, done.stderr)
    no_traceback(done)


def test_replay_of_a_missing_path_exits_1_and_still_replays_the_rest(
    installed: Installed, workdir: Path
) -> None:
    out = workdir / "out.jsonl"
    done = installed.run(
        "replay", str(SEEDS), "no-such-folder", "--sink", f"jsonl:{out}", cwd=workdir
    )
    assert done.returncode == EXIT_FAIL, done.stderr
    no_traceback(done)
    assert {m["article"]["source"] for m in messages(out)} == SEED_NAMES


@pytest.mark.parametrize(
    "args",
    [
        ["replay", str(SEEDS), "--sink", "kafak"],
        ["replay"],
        ["frobnicate"],
        ["inspect", "a.html", "--no-such-option"],
    ],
    ids=["unknown-sink", "no-paths", "unknown-command", "unknown-option"],
)
def test_usage_errors_exit_2(installed: Installed, workdir: Path, args: list[str]) -> None:
    done = installed.run(*args, cwd=workdir)
    assert done.returncode == EXIT_USAGE, (done.stdout, done.stderr)
    no_traceback(done)


BAD_CONFIG = "kafka:\n  partitions: none\nclean:\n  min_chars: -5\n"


@pytest.mark.parametrize("command", ["replay", "run", "inspect"])
def test_a_bad_config_exits_2(installed: Installed, workdir: Path, command: str) -> None:
    cfg = workdir / "bad.yaml"
    cfg.write_text(BAD_CONFIG, encoding="utf-8")
    args = {
        "replay": ["replay", str(SEEDS), "--sink", "stdout"],
        "run": ["run", "--once"],
        "inspect": ["inspect", str(SEEDS / sorted(SEED_NAMES)[0])],
    }[command]
    done = installed.run(*args, "--config", str(cfg), cwd=workdir)
    assert done.returncode == EXIT_USAGE, (done.stdout, done.stderr)
    no_traceback(done)
    assert "bad.yaml" in done.stderr
    assert not (workdir / "state").exists()


def test_a_bad_environment_override_exits_2(installed: Installed, workdir: Path) -> None:
    done = installed.run(
        "replay",
        str(SEEDS),
        "--sink",
        "stdout",
        cwd=workdir,
        env={"NEWS_MONITOR_KAFKA__PARTITIONS": "many"},
    )
    assert done.returncode == EXIT_USAGE, (done.stdout, done.stderr)
    no_traceback(done)
    assert "NEWS_MONITOR_KAFKA__PARTITIONS" in done.stderr


def test_check_config_passes_the_shipped_defaults_and_fails_a_bad_file(
    installed: Installed, workdir: Path
) -> None:
    good = installed.run("check-config", str(ROOT / "config" / "monitor.yaml"), cwd=workdir)
    assert good.returncode == EXIT_OK, good.stderr
    cfg = workdir / "bad.yaml"
    cfg.write_text(BAD_CONFIG, encoding="utf-8")
    bad = installed.run("check-config", str(cfg), cwd=workdir)
    assert bad.returncode != EXIT_OK
    no_traceback(bad)
    assert "partitions" in bad.stderr and "min_chars" in bad.stderr  # every problem at once


@pytest.mark.parametrize("sink", ["kafak", "jsonl:{folder}"], ids=["unknown", "folder"])
def test_a_bad_sink_fails_before_anything_is_recorded(
    installed: Installed, workdir: Path, sink: str
) -> None:
    """A sink that cannot work fails the run at start; a rerun with a good one publishes all."""
    folder = workdir / "existing-folder"
    folder.mkdir()
    bad = installed.run("replay", str(SEEDS), "--sink", sink.format(folder=folder), cwd=workdir)
    assert bad.returncode != EXIT_OK, bad.stderr
    no_traceback(bad)
    assert not any(folder.iterdir())

    out = workdir / "out.jsonl"
    explain = workdir / "explain.jsonl"
    good = installed.run(
        "replay", str(SEEDS), "--sink", f"jsonl:{out}", "--explain", str(explain), cwd=workdir
    )
    assert good.returncode == EXIT_OK, good.stderr
    assert {m["article"]["source"] for m in messages(out)} == SEED_NAMES
    decisions = [json.loads(line) for line in explain.read_text(encoding="utf-8").splitlines()]
    assert len(decisions) == len(SEED_NAMES)
    assert all(d["decision"] == "published" or d.get("layer") == "story" for d in decisions)
