"""Replay input problems through the real CLI: one decision per item, with the reason."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]


def replay(
    tmp_path: Path, *paths: Path, env: dict[str, str] | None = None
) -> list[dict[str, object]]:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(f"state: {{path: {tmp_path / 'state.db'}}}\n", encoding="utf-8")
    explain = tmp_path / "explain.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "replay",
            *map(str, paths),
            "--config",
            str(cfg),
            "--no-filter",
            "--sink",
            f"jsonl:{tmp_path / 'out.jsonl'}",
            "--explain",
            str(explain),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    decisions = [orjson.loads(line) for line in explain.read_bytes().splitlines()]
    # Exit 1 exactly when some input was rejected (a warning alone is not a failure).
    rejected = any(d["decision"] == "rejected" for d in decisions)
    assert proc.returncode == (1 if rejected else 0), proc.stderr
    return decisions


def test_replay_explains_bad_dates_encodings_and_the_size_cap(tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_bytes(
        b'{"id": "d1", "url": "https://x.test/1", "title": "Bad date", "published": "not-a-date"}\n'
        b'{"id": "d2", "url": "https://x.test/2", "title": "Future", "published": "2999-01-01"}\n'
        + '{"id": "d3", "title": "Caf\u00e9"}\n'.encode("latin-1")
    )
    dump = tmp_path / "utf16.txt"
    dump.write_bytes(
        codecs.BOM_UTF16_LE + ("Київ headline for a dump\n" + "Body. " * 300).encode("utf-16-le")
    )
    decisions = {d["input_id"]: d for d in replay(tmp_path, items, dump)}
    assert len(decisions) == 4
    assert decisions["d1"]["decision"] == "published"
    assert decisions["d1"]["warnings"] == [
        'published "not-a-date" is not an ISO 8601 date (e.g. 2024-11-05 or '
        "2024-11-05T10:00:00Z): published left empty"
    ]
    assert decisions["d2"]["decision"] == "published"
    assert "more than a day in the future" in decisions["d2"]["warnings"][0]  # type: ignore[index]
    assert decisions["items.jsonl:3"]["decision"] == "rejected"
    assert decisions["items.jsonl:3"]["reason"] == (
        "line 3: not valid UTF-8 (byte 0xe9 at character 27): re-save the file as UTF-8"
    )
    assert decisions["utf16.txt"]["decision"] == "published"

    capped = replay(tmp_path, dump, env={"NEWS_MONITOR_CLEAN__MAX_INPUT_BYTES": "1000"})
    assert [(d["input_id"], d["decision"]) for d in capped] == [("utf16.txt", "rejected")]
    assert str(capped[0]["reason"]).startswith(
        f"file is {dump.stat().st_size:,} bytes, over clean.max_input_bytes 1,000: "
    )
