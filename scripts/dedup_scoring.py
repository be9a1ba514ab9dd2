"""B-cubed scoring of a clustering, shared by the dedup evaluation, training and quality gate."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping


def bcubed(pred: Mapping[str, str], gold: Mapping[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering (item -> cluster) against gold."""
    pc: dict[str, set[str]] = defaultdict(set)
    gc: dict[str, set[str]] = defaultdict(set)
    for i in gold:
        pc[pred[i]].add(i)
        gc[gold[i]].add(i)
    p = sum(len(pc[pred[i]] & gc[gold[i]]) / len(pc[pred[i]]) for i in gold) / len(gold)
    r = sum(len(pc[pred[i]] & gc[gold[i]]) / len(gc[gold[i]]) for i in gold) / len(gold)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0
