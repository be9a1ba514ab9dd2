"""Dedup quality gate: B-cubed F1 on the development corpora may not drop below the floors.

Each corpus is replayed through the real CLI (`news-monitor replay FILE --no-filter
--explain`, default configuration) in this process, the same code path a user runs.
Runs when the development corpora sit beside the repository (`../shared/corpora`, as
in CI); skips with the reason otherwise. Figures and how they were made: docs/dedup.md
(`scripts/eval_dedup.py` prints them beside a TF-IDF baseline).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from monitor.cli import main as cli_main
from scripts.dedup_scoring import bcubed
from tests.corpora_needed import corpora_missing

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "stories"
FLOORS = {
    # corpus: (B-cubed precision floor, B-cubed F1 floor), as measured through the CLI.
    "ecbplus-dev": (0.95, 0.68),
    "gva-dev": (0.95, 0.88),
}
TOLERANCE = 0.01
"""How far below a floor a figure may fall before the gate fails."""


@pytest.mark.parametrize("corpus", sorted(FLOORS))
def test_story_dedup_keeps_its_quality(corpus: str, tmp_path: Path) -> None:
    path = CORPORA / f"{corpus}.jsonl"
    if not path.exists():
        corpora_missing(f"development corpus {path.name} not beside the repository (../shared)")
    gold = {
        (row := json.loads(line))["id"]: row["gold_story"]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line
    }
    cfg = tmp_path / "config.yaml"
    config = {"state": {"path": str(tmp_path / "s.db")}, "logging": {"level": "WARNING"}}
    cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
    explain = tmp_path / "explain.jsonl"
    code = cli_main(
        [
            "replay",
            str(path),
            "--config",
            str(cfg),
            "--no-filter",
            "--sink",
            f"jsonl:{tmp_path / 'out.jsonl'}",
            "--explain",
            str(explain),
        ]
    )
    assert code == 0
    pred = {}
    for line in explain.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        pred[rec["input_id"]] = rec.get("story_id") or f"rejected:{rec['input_id']}"
    assert set(pred) == set(gold)  # every item got exactly one decision
    p, r, f1 = bcubed(pred, gold)
    p_floor, f1_floor = FLOORS[corpus]
    assert p >= p_floor - TOLERANCE, f"{corpus}: B-cubed P {p:.3f} < floor {p_floor}"
    assert f1 >= f1_floor - TOLERANCE, f"{corpus}: B-cubed F1 {f1:.3f} (R {r:.3f}) < {f1_floor}"
