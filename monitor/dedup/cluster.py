"""Layer 3: online story clustering with the learned join model, over the in-memory index.

Each article is decided once, when it arrives: its candidates are the window's
stories that share its heaviest terms; each candidate gets the pair features
(`pairs.py`) and the model's join probability; the most probable story is joined
when its probability reaches the threshold, otherwise the article starts a story.
Pure apart from the index it keeps: the caller persists what it decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any

from monitor.dedup import pairs
from monitor.dedup.index import TITLE_TERMS, Candidate, Story, StoryIndex, merged
from monitor.dedup.model import Model
from monitor.dedup.vectors import Vector


@dataclass(frozen=True, slots=True)
class Verdict:
    """The best candidate story of an article, its join probability, and why."""

    candidate: Candidate | None
    probability: float
    row: list[float]
    joined: bool
    candidates: int = 0


class StoryClusterer:
    """The live stories and the decision rule; one per deduplicator."""

    def __init__(self, model: Model, window_s: float, threshold: float | None = None) -> None:
        self.model = model
        self.window = window_s
        self.threshold = model.threshold if threshold is None else threshold
        self.index = StoryIndex()

    def decide(self, vec: Vector, when: float, dated: bool) -> Verdict:
        """Score the article against its candidate stories (event time within the window)."""
        cands = self.index.candidates(vec.terms, when - self.window, when + self.window)
        if not cands:
            return Verdict(None, 0.0, [], False)
        rows = pairs.features(vec, when, dated, cands)
        probability = self.model.probability
        best, best_p = 0, -1.0
        for i, row in enumerate(rows):
            p = probability(row)
            if p > best_p:
                best, best_p = i, p
        return Verdict(cands[best], best_p, rows[best], best_p >= self.threshold, len(cands))

    def add(
        self,
        vec: Vector,
        when: float,
        keep: float,
        dated: bool,
        story_id: str,
        joined: Story | None,
    ) -> Story:
        """Start story `story_id` with the article, or add the article to `joined`."""
        if joined is None:
            return self.index.put(
                story_id, vec.terms, sorted(vec.title), 1, (when, when, keep), dated
            )
        # Sorted: a set's order is not stable across processes, and the cap keeps the first.
        title = islice(dict.fromkeys([*joined.title, *sorted(vec.title)]), TITLE_TERMS)
        times = (min(joined.first_t, when), max(joined.last_t, when), max(joined.keep_t, keep))
        return self.index.put(
            joined.story_id,
            merged(self.index.terms(joined), vec.terms),
            title,
            joined.size + 1,
            times,
            joined.dated and dated,
        )

    def explain(self, vec: Vector, verdict: Verdict) -> dict[str, Any]:
        """The best candidate, its probability, features, and the terms it shares."""
        cand = verdict.candidate
        if cand is None:
            return {}
        shared = sorted(
            (t for t in vec.terms if t in cand.terms),
            key=lambda t: -vec.terms[t] * cand.terms[t],
        )[:8]
        return {
            "candidate": cand.story.story_id,
            "score": round(verdict.probability, 4),
            "threshold": self.threshold,
            "candidates": verdict.candidates,
            "features": {
                name: round(x, 4) for name, x in zip(pairs.FEATURES, verdict.row, strict=True)
            },
            "contributions": self.model.contributions(verdict.row),
            "shared": [vec.labels.get(t, str(t)) for t in shared],
        }
