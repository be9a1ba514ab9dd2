"""Where story dedup loses recall: the window, the candidate generator, or the decision.

Each development corpus is streamed as `train_dedup.py` streams it (the CLI's replay
and clean stages, then the real layer-3 code with every article joined to its *gold*
story), and each article whose gold story already has a member is counted at the first
stage that misses it:

- window: the gold story's newest member is outside the window (`window_hours`);
- retrieval: the gold story is live but not among the candidates scored;
- ranking: it is a candidate, but another candidate gets a higher join probability;
- threshold: it is the most probable candidate, below the join threshold;
- joined: it would be joined.

Also counted: articles whose gold story is new but whose best candidate reaches the
threshold (false joins). The shipped model is used unless `--model` names another.

    python scripts/diagnose_dedup.py [--corpora PATH] [--model FILE] [--window HOURS]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from corpora import ROOT, corpora_dir
from train_dedup import CORPORA, load_corpus, teacher_forced

sys.path.insert(0, str(ROOT))

from monitor.config import DedupSettings
from monitor.dedup.model import load

STAGES = ("window", "retrieval", "ranking", "threshold", "joined")


def main() -> None:
    """Print, per corpus, how many articles each stage loses."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", help="the corpora folder (default: shared/corpora beside)")
    ap.add_argument("--model", type=Path, help="a model file (default: the shipped one)")
    ap.add_argument("--window", type=float, help="window_hours (default: the config default)")
    args = ap.parse_args()
    folder = corpora_dir(args.corpora)
    if not (folder / "stories").is_dir():
        print(f"corpora not found: {folder}/stories (pass --corpora PATH); nothing to diagnose")
        return
    model = load(args.model)
    settings = DedupSettings(window_hours=args.window) if args.window else DedupSettings()
    print(f"threshold {model.threshold}, window {settings.window_hours:g} h")
    for name in CORPORA:
        corpus = load_corpus(name, folder)
        lost: Counter[str] = Counter()
        false_joins = 0
        for step in teacher_forced(corpus.articles, corpus.gold, settings):
            probs = [model.probability(row) for row in step.rows]
            best = max(range(len(probs)), key=probs.__getitem__) if probs else -1
            joins = best >= 0 and probs[best] >= model.threshold
            if not step.earlier:
                false_joins += joins
                continue
            ids = [c.story.story_id for c in step.candidates]
            if step.target is None:
                lost["window"] += 1
            elif step.target not in ids:
                lost["retrieval"] += 1
            elif ids[best] != step.target:
                lost["ranking"] += 1
            elif not joins:
                lost["threshold"] += 1
            else:
                lost["joined"] += 1
        total = sum(lost.values())
        cells = "  ".join(f"{s} {lost[s]}" for s in STAGES)
        print(
            f"{name}: {len(corpus.articles)} articles, {total} with an earlier member of "
            f"their gold story: {cells}; false joins of a new story's first article "
            f"{false_joins}"
        )


if __name__ == "__main__":
    main()
