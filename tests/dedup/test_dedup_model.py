"""The shipped story model is what `scripts/train_dedup.py` makes from the dev corpora."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.dedup.model import Model, load
from monitor.dedup.pairs import FEATURES
from tests.corpora_needed import corpora_missing

ROOT = Path(__file__).resolve().parents[2]
STORIES = ROOT.parent / "shared" / "corpora" / "stories"


def test_the_shipped_model_loads_and_matches_the_features() -> None:
    model = load()
    assert model.features == FEATURES
    assert 0 < model.threshold < 1
    assert len(model.coef) == len(FEATURES)


def test_folding_the_standardisation_keeps_every_probability() -> None:
    mean, scale = [0.2, 1.5, -3.0], [0.5, 2.0, 4.0]
    coef, intercept = [1.2, -0.7, 0.3], -0.4
    folded = Model.from_standardised(("a", "b", "c"), mean, scale, coef, intercept, 0.5)
    for row in ([0.0, 0.0, 0.0], [0.2, 1.5, -3.0], [1.0, -2.0, 7.5], [0.9, 3.3, 0.1]):
        terms = zip(row, mean, scale, coef, strict=True)
        z = intercept + sum((x - m) / s * c for x, m, s, c in terms)
        assert folded.probability(row) == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-12)
    # At the mean every standardised feature is 0: the probability is the intercept's.
    assert folded.probability(mean) == pytest.approx(1 / (1 + math.exp(0.4)), abs=1e-12)


def test_contributions_and_the_intercept_make_the_log_odds() -> None:
    model = load()
    row = [0.15 * (i % 7) for i in range(len(FEATURES))]
    parts = model.contributions(row)
    assert list(parts) == list(FEATURES)
    p = model.probability(row)
    z = model.intercept + sum(parts.values())
    assert math.log(p / (1 - p)) == pytest.approx(z, abs=0.01)  # contributions are rounded
    with pytest.raises(ValueError, match="coefficients"):
        Model.from_dict({**model.to_dict(), "coef": model.to_dict()["coef"][:-1]})


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
