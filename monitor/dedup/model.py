"""The learned join model: logistic regression over the pair features (`pairs.FEATURES`).

Trained by `scripts/train_dedup.py` on labelled pairs from the development corpora
and shipped as `model.json` beside this module (package data). It holds the
feature names, the standardisation, the coefficients and the operating point
(the join probability) chosen by cross-validation over both corpora at once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.dedup.pairs import FEATURES

MODEL_FILE = "model.json"


@dataclass(frozen=True, slots=True)
class Model:
    """A logistic regression over standardised features, and its join threshold."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    """Join probability of the validated operating point."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        """Build from the JSON form; the features must be the ones this code computes."""
        feats = tuple(data["features"])
        if feats != FEATURES:
            raise ValueError(
                f"dedup model features {feats} differ from the code's {FEATURES}: "
                "retrain with scripts/train_dedup.py"
            )
        return cls(
            features=feats,
            mean=tuple(map(float, data["mean"])),
            scale=tuple(map(float, data["scale"])),
            coef=tuple(map(float, data["coef"])),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (rounded, so retraining reproduces the file byte for byte)."""
        return {
            "features": list(self.features),
            "mean": [round(x, 6) for x in self.mean],
            "scale": [round(x, 6) for x in self.scale],
            "coef": [round(x, 6) for x in self.coef],
            "intercept": round(self.intercept, 6),
            "threshold": round(self.threshold, 4),
        }

    def probability(self, row: list[float]) -> float:
        """The probability that the article belongs to the candidate's story."""
        z = self.intercept
        for x, m, s, c in zip(row, self.mean, self.scale, self.coef, strict=True):
            z += (x - m) / s * c
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def contributions(self, row: list[float]) -> dict[str, float]:
        """Each feature's share of the log-odds (for `--explain`)."""
        return {
            name: round((x - m) / s * c, 3)
            for name, x, m, s, c in zip(
                self.features, row, self.mean, self.scale, self.coef, strict=True
            )
        }


def load(path: Path | None = None) -> Model:
    """The shipped model, or the one at `path`."""
    if path is None:
        text = resources.files("monitor.dedup").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return Model.from_dict(json.loads(text))
