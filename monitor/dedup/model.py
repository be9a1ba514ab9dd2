"""The learned join model: logistic regression over the pair features (`pairs.FEATURES`).

Trained by `scripts/train_dedup.py` on labelled pairs from the development corpora
and shipped as `model.json` beside this module (package data). It holds the
feature names, one coefficient per raw feature (the fit's standardisation is folded
in), the intercept, and the operating point (the join probability) chosen by
cross-validation over both corpora at once.
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

from monitor.dedup.pairs import FEATURES

MODEL_FILE = "model.json"


@dataclass(frozen=True, slots=True)
class Model:
    """A logistic regression over the raw pair features, and its join threshold."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    """Join probability of the validated operating point."""

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
        """Fold a fit on standardised features, (x - mean) / scale, into raw coefficients."""
        raw = tuple(c / s for c, s in zip(coef, scale, strict=True))
        shift = sum(m * w for m, w in zip(mean, raw, strict=True))
        return cls(features, raw, intercept - shift, threshold)

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
        return cls(
            features=feats,
            coef=coef,
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (rounded, so retraining reproduces the file byte for byte)."""
        return {
            "features": list(self.features),
            "coef": [round(x, 6) for x in self.coef],
            "intercept": round(self.intercept, 6),
            "threshold": round(self.threshold, 4),
        }

    def probability(self, row: Sequence[float]) -> float:
        """The probability that the article belongs to the candidate's story."""
        z = self.intercept + sum(map(mul, row, self.coef))
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def contributions(self, row: Sequence[float]) -> dict[str, float]:
        """Each feature's term of the log-odds (for `--explain`; the intercept is apart)."""
        return {
            name: round(x * c, 3) for name, x, c in zip(self.features, row, self.coef, strict=True)
        }


def load(path: Path | None = None) -> Model:
    """The shipped model, or the one at `path`."""
    if path is None:
        text = resources.files("monitor.dedup").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return Model.from_dict(json.loads(text))
