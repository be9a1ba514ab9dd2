"""The learned join model: logistic regression over the pair features, in two stages.

Trained by `scripts/train_dedup.py` on labelled pairs from the development corpora
and shipped as `model.json` beside this module (package data). The first stage is a
logistic regression over the pair features (`pairs.FEATURES`) of every pair. For a
pair whose article and story are both dated, a second stage (`DatedStage`) re-weighs
the first stage's log-odds with where the candidate stands among the article's
candidates (`pairs.relative`) and its cosine, days since the story's newest member
and title overlap: on a dated stream the best of several similar incidents is
told apart by them; undated pairs keep the first stage alone. The fits'
standardisations are folded into raw coefficients; the operating point (the join
probability) is chosen by cross-validation over both corpora at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from operator import mul
from pathlib import Path
from typing import Any

from monitor.dedup.pairs import FEATURES, RELATIVE, relative

MODEL_FILE = "model.json"
STAGE_FEATURES = ("log_odds", "cosine_gap", "rank", "margin", "cosine", "days_since_last", "title")
"""The dated stage's inputs: the first stage's log-odds, the relative features, and
three pair features (`STAGE_COLUMNS`)."""
STAGE_COLUMNS = (
    FEATURES.index("cosine"),
    FEATURES.index("days_since_last"),
    FEATURES.index("title"),
)
DATED = FEATURES.index("dated")


def fold(
    mean: Sequence[float], scale: Sequence[float], coef: Sequence[float], intercept: float
) -> tuple[tuple[float, ...], float]:
    """Fold a fit on standardised features, (x - mean) / scale, into raw coefficients."""
    raw = tuple(c / s for c, s in zip(coef, scale, strict=True))
    return raw, intercept - sum(m * w for m, w in zip(mean, raw, strict=True))


def sigmoid(z: float) -> float:
    """The probability of log-odds `z`."""
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@dataclass(frozen=True, slots=True)
class DatedStage:
    """The second stage for dated pairs: a logistic regression over `STAGE_FEATURES`."""

    coef: tuple[float, ...]
    intercept: float

    def inputs(self, z: float, rel: Sequence[float], row: Sequence[float]) -> list[float]:
        """The stage's feature values for a pair of first-stage log-odds `z`."""
        return [z, *rel, *(row[c] for c in STAGE_COLUMNS)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (rounded like the first stage's)."""
        return {
            "features": list(STAGE_FEATURES),
            "coef": [round(x, 6) for x in self.coef],
            "intercept": round(self.intercept, 6),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatedStage:
        """Build from the JSON form; its inputs must be the ones this code computes."""
        feats = tuple(data["features"])
        if feats != STAGE_FEATURES:
            raise ValueError(
                f"dedup model's dated stage features {feats} differ from the code's "
                f"{STAGE_FEATURES}: retrain with scripts/train_dedup.py"
            )
        coef = tuple(map(float, data["coef"]))
        if len(coef) != len(feats):
            raise ValueError(
                f"dedup model's dated stage has {len(coef)} coefficients for {len(feats)} features"
            )
        return cls(coef, float(data["intercept"]))


@dataclass(frozen=True, slots=True)
class Model:
    """The first stage over the raw pair features, the dated stage, and the threshold."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    """Join probability of the validated operating point."""
    dated: DatedStage | None = None
    """The second stage for dated pairs (None: the first stage decides every pair)."""

    @classmethod
    def from_standardised(
        cls,
        features: tuple[str, ...],
        mean: Sequence[float],
        scale: Sequence[float],
        coef: Sequence[float],
        intercept: float,
        threshold: float,
    ) -> Model:
        """A first stage fitted on standardised features, (x - mean) / scale."""
        raw, shifted = fold(mean, scale, coef, intercept)
        return cls(features, raw, shifted, threshold)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        """Build from the JSON form; the features must be the ones this code computes."""
        feats = tuple(data["features"])
        if feats != FEATURES:
            raise ValueError(
                f"dedup model features {feats} differ from the code's {FEATURES}: "
                "retrain with scripts/train_dedup.py"
            )
        coef = tuple(map(float, data["coef"]))
        if len(coef) != len(feats):
            raise ValueError(f"dedup model has {len(coef)} coefficients for {len(feats)} features")
        stage = data.get("dated")
        return cls(
            features=feats,
            coef=coef,
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            dated=None if stage is None else DatedStage.from_dict(stage),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (rounded, so retraining reproduces the file byte for byte)."""
        out: dict[str, Any] = {
            "features": list(self.features),
            "coef": [round(x, 6) for x in self.coef],
            "intercept": round(self.intercept, 6),
        }
        if self.dated is not None:
            out["dated"] = self.dated.to_dict()
        out["threshold"] = round(self.threshold, 4)
        return out

    def log_odds(self, row: Sequence[float]) -> float:
        """The first stage's log-odds of one pair."""
        z: float = self.intercept + sum(map(mul, row, self.coef))
        return z

    def scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """The join log-odds of each of an article's candidates (rows best cosine first)."""
        base = [self.intercept + sum(map(mul, row, self.coef)) for row in rows]
        stage = self.dated
        if stage is None or not any(row[DATED] for row in rows):
            return base
        w_z, w_gap, w_rank, w_margin, w_cos, w_days, w_title = stage.coef
        i_cos, i_days, i_title = STAGE_COLUMNS
        out = []
        for z, (gap, rank, margin), row in zip(base, relative(rows), rows, strict=True):
            if row[DATED]:
                z = (
                    stage.intercept
                    + w_z * z
                    + w_gap * gap
                    + w_rank * rank
                    + w_margin * margin
                    + w_cos * row[i_cos]
                    + w_days * row[i_days]
                    + w_title * row[i_title]
                )
            out.append(z)
        return out

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """The join probability of each of an article's candidates (rows best cosine first)."""
        return [sigmoid(z) for z in self.scores(rows)]

    def explain(self, rows: Sequence[Sequence[float]], i: int) -> dict[str, Any]:
        """Candidate `i`'s features and each one's term of its log-odds (`contributions`,
        summing with `intercept` to the log-odds): in the dated stage the first stage's
        terms are scaled by the stage's weight of its log-odds."""
        row = rows[i]
        features = {name: round(x, 4) for name, x in zip(self.features, row, strict=True)}
        parts = [x * c for x, c in zip(row, self.coef, strict=True)]
        intercept = self.intercept
        stage = self.dated
        if stage is not None and row[DATED]:
            rel = relative(rows)[i]
            inputs = stage.inputs(self.log_odds(row), rel, row)
            scale = stage.coef[0]
            parts = [p * scale for p in parts]
            intercept = stage.intercept + scale * intercept
            extra = dict(zip(STAGE_FEATURES[1:], inputs[1:], strict=True))
            for name, c in zip(STAGE_FEATURES[1:], stage.coef[1:], strict=True):
                if name in RELATIVE:
                    features[name] = round(extra[name], 4)
                    parts.append(extra[name] * c)
                else:
                    parts[self.features.index(name)] += extra[name] * c
            names = [*self.features, *RELATIVE]
        else:
            names = list(self.features)
        return {
            "features": features,
            "contributions": {n: round(p, 3) for n, p in zip(names, parts, strict=True)},
            "intercept": round(intercept, 3),
        }


def load(path: Path | None = None) -> Model:
    """The shipped model, or the one at `path`."""
    if path is None:
        text = resources.files("monitor.dedup").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return Model.from_dict(json.loads(text))
