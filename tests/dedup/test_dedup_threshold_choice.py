"""The join threshold `scripts/train_dedup.py` picks from the cross-validated scores."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from train_dedup import choose

SCORES = {
    # threshold: corpus -> held-out B-cubed (P, R, F1)
    0.70: {"a": (0.94, 0.60, 0.73), "b": (0.98, 0.80, 0.88)},
    0.76: {"a": (0.95, 0.55, 0.70), "b": (0.98, 0.79, 0.87)},
    0.78: {"a": (0.96, 0.50, 0.66), "b": (0.99, 0.78, 0.87)},
    0.80: {"a": (0.97, 0.45, 0.61), "b": (0.99, 0.77, 0.86)},
}


def test_the_best_mean_f1_among_thresholds_that_keep_precision_everywhere() -> None:
    assert choose(SCORES) == 0.76  # 0.70 has the best F1 but precision 0.94 on "a"


def test_a_threshold_the_final_model_fails_at_gives_way_to_the_next_best() -> None:
    asked: list[float] = []

    def holds(t: float) -> bool:
        asked.append(t)
        return t >= 0.78  # e.g. the seeds merge, or a whole corpus's precision drops

    assert choose(SCORES, holds) == 0.78
    assert asked == [0.76, 0.78]  # asked in order of preference, only as far as needed


def test_without_any_threshold_keeping_precision_the_most_precise_is_taken() -> None:
    assert choose(SCORES, lambda t: False) == 0.80
