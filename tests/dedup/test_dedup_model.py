"""The shipped story model is what `scripts/train_dedup.py` makes from the dev corpora."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from monitor.dedup.model import load
from monitor.dedup.pairs import FEATURES
from tests.corpora_needed import corpora_missing

ROOT = Path(__file__).resolve().parents[2]
STORIES = ROOT.parent / "shared" / "corpora" / "stories"


def test_the_shipped_model_loads_and_matches_the_features() -> None:
    model = load()
    assert model.features == FEATURES
    assert 0 < model.threshold < 1
    assert len(model.coef) == len(FEATURES)


def test_retraining_reproduces_the_shipped_model() -> None:
    if not (STORIES / "gva-dev.jsonl").exists():
        corpora_missing("development corpora not beside the repository (../shared)")
    proc = subprocess.run(
        [sys.executable, "scripts/train_dedup.py", "--check", "--corpora", str(STORIES.parent)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    assert "retraining reproduces" in proc.stdout


def test_the_recall_diagnosis_accounts_for_every_article_with_an_earlier_member() -> None:
    if not (STORIES / "gva-dev.jsonl").exists():
        corpora_missing("development corpora not beside the repository (../shared)")
    proc = subprocess.run(
        [sys.executable, "scripts/diagnose_dedup.py", "--corpora", str(STORIES.parent)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for line in proc.stdout.splitlines()[1:]:
        head, _, stages = line.partition(" with an earlier member of their gold story: ")
        counts = [int(w) for w in stages.split(";")[0].split()[1::2]]
        assert len(counts) == 5 and sum(counts) == int(head.split(", ")[-1]), line
