"""The shipped story model is what `scripts/train_dedup.py` makes from the dev corpora."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.dedup.model import STAGE_COLUMNS, STAGE_FEATURES, DatedStage, Model, load, sigmoid
from monitor.dedup.pairs import FEATURES, RELATIVE, relative
from tests.corpora_needed import corpora_missing

ROOT = Path(__file__).resolve().parents[2]
STORIES = ROOT.parent / "shared" / "corpora" / "stories"


def test_the_shipped_model_loads_and_matches_the_features() -> None:
    model = load()
    assert model.features == FEATURES
    assert 0 < model.threshold < 1
    assert len(model.coef) == len(FEATURES)
    assert model.dated is not None and len(model.dated.coef) == len(STAGE_FEATURES)
    # The dated stage reads: the log-odds, the relative features, then STAGE_COLUMNS.
    assert STAGE_FEATURES[1:4] == RELATIVE
    assert tuple(FEATURES[c] for c in STAGE_COLUMNS) == STAGE_FEATURES[4:]


def test_folding_the_standardisation_keeps_every_probability() -> None:
    mean, scale = [0.2, 1.5, -3.0], [0.5, 2.0, 4.0]
    coef, intercept = [1.2, -0.7, 0.3], -0.4
    folded = Model.from_standardised(("a", "b", "c"), mean, scale, coef, intercept, 0.5)
    for row in ([0.0, 0.0, 0.0], [0.2, 1.5, -3.0], [1.0, -2.0, 7.5], [0.9, 3.3, 0.1]):
        terms = zip(row, mean, scale, coef, strict=True)
        z = intercept + sum((x - m) / s * c for x, m, s, c in terms)
        assert folded.log_odds(row) == pytest.approx(z, abs=1e-12)
    # At the mean every standardised feature is 0: the probability is the intercept's.
    assert sigmoid(folded.log_odds(mean)) == pytest.approx(1 / (1 + math.exp(0.4)), abs=1e-12)


def rows_of(dated: float) -> list[list[float]]:
    """Three candidates' feature rows, best cosine first."""
    rows = [[0.15 * ((i + k) % 7) for i in range(len(FEATURES))] for k in range(3)]
    for k, row in enumerate(rows):
        row[FEATURES.index("cosine")] = 0.6 - 0.2 * k
        row[FEATURES.index("dated")] = dated
    return rows


def test_relative_features_place_each_candidate_among_the_others() -> None:
    rel = relative(rows_of(1.0))
    assert rel[0] == pytest.approx((0.0, 0.0, 0.2))
    assert rel[1] == pytest.approx((-0.2, math.log(2), -0.2))
    assert rel[2] == pytest.approx((-0.4, math.log(3), -0.4))
    assert relative([]) == []


def test_undated_pairs_are_scored_by_the_first_stage_alone() -> None:
    model = load()
    rows = rows_of(0.0)
    assert model.scores(rows) == [model.log_odds(row) for row in rows]
    dated = rows_of(1.0)
    assert model.scores(dated) != [model.log_odds(row) for row in dated]


@pytest.mark.parametrize("dated", [0.0, 1.0])
def test_contributions_and_the_intercept_make_the_log_odds(dated: float) -> None:
    model = load()
    rows = rows_of(dated)
    for i, z in enumerate(model.scores(rows)):
        why = model.explain(rows, i)
        extra = ["cosine_gap", "rank", "margin"] if dated else []
        assert list(why["contributions"]) == [*FEATURES, *extra]
        total = why["intercept"] + sum(why["contributions"].values())
        assert total == pytest.approx(z, abs=0.02)  # contributions are rounded
    assert model.probabilities(rows) == [sigmoid(z) for z in model.scores(rows)]


def test_a_model_file_that_does_not_fit_the_code_is_refused() -> None:
    data = load().to_dict()
    with pytest.raises(ValueError, match="coefficients"):
        Model.from_dict({**data, "coef": data["coef"][:-1]})
    stage = {**data["dated"], "features": data["dated"]["features"][:-1]}
    with pytest.raises(ValueError, match="dated stage features"):
        Model.from_dict({**data, "dated": stage})
    stage = {**data["dated"], "coef": data["dated"]["coef"][:-1]}
    with pytest.raises(ValueError, match="dated stage has"):
        Model.from_dict({**data, "dated": stage})
    assert Model.from_dict(data) == load()
    assert Model.from_dict({k: v for k, v in data.items() if k != "dated"}).dated is None
    assert isinstance(load().dated, DatedStage)


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
