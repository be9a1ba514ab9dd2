"""The separation measures of `scripts/diagnose_dedup.py --signals`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from diagnose_dedup import recall_at_precision, roc_auc


def test_roc_auc_is_the_share_of_positive_negative_pairs_ranked_right() -> None:
    assert roc_auc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]) == 1.0
    assert roc_auc([0.1, 0.3, 0.8, 0.9], [1, 1, 0, 0]) == 0.0
    # 3 of the 4 (positive, negative) pairs in order, the tie at 0.5 counts half.
    assert roc_auc([0.9, 0.5, 0.5, 0.1], [1, 0, 1, 0]) == 0.875
    assert roc_auc([0.9, 0.4, 0.5, 0.1], [1, 1, 0, 0]) == 0.75
    with pytest.raises(ValueError, match="positive and negative"):
        roc_auc([0.2, 0.4], [1, 1])


def test_recall_at_precision_takes_the_deepest_cut_that_keeps_the_floor() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    labels = [1, 1, 0, 1, 0]
    assert recall_at_precision(scores, labels, 1.0) == pytest.approx(2 / 3)
    assert recall_at_precision(scores, labels, 0.75) == 1.0  # 3 of the top 4
    assert recall_at_precision(scores, labels, 0.99) == pytest.approx(2 / 3)


def test_a_cut_cannot_split_a_tie() -> None:
    # The second 0.8 is a negative: no cut keeps the first 0.8 without it.
    assert recall_at_precision([0.9, 0.8, 0.8], [1, 1, 0], 1.0) == 0.5
    assert recall_at_precision([0.8, 0.8], [1, 0], 0.9) == 0.0
