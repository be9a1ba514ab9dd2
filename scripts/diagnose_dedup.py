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

`--signals` asks instead how much the representation costs: over the same labelled
pairs (every candidate an article is scored against, 1 for its gold story), how well
single similarity signals separate the pairs (ROC AUC, and recall at the pair precision
the model reaches at its threshold): the shipped `cosine`, and cosines over other
representations kept beside the stream (more terms per article and per story, IDF
fitted on the whole corpus, saturated term counts, title terms counted more).

    python scripts/diagnose_dedup.py [--corpora PATH] [--model FILE] [--window HOURS]
    python scripts/diagnose_dedup.py --signals
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from corpora import ROOT, corpora_dir
from train_dedup import CORPORA, Corpus, load_corpus, teacher_forced

sys.path.insert(0, str(ROOT))

from monitor.config import DedupSettings
from monitor.dedup.features import extract, term_id
from monitor.dedup.model import Model, load
from monitor.dedup.vectors import KIND_WEIGHT, idf

STAGES = ("window", "retrieval", "ranking", "threshold", "joined")


@dataclass(frozen=True)
class Representation:
    """How an article and a story profile are weighed for one cosine signal."""

    article_terms: int | None
    """Heaviest terms an article keeps (None: all)."""
    story_terms: int | None
    """Heaviest terms a story's profile (the sum of its members' vectors) keeps."""
    tf: Callable[[int], float] = lambda c: 1.0 + math.log(c)
    corpus_idf: bool = False
    """IDF fitted on the whole corpus (an upper bound: a stream cannot know it)."""
    title_extra: int = 0
    """Counts added to each term of the title."""


def _saturated(count: int) -> float:
    """BM25's term-count saturation (k1 = 1.2, no length normalisation)."""
    return 2.2 * count / (count + 1.2)


SIGNALS = {
    "all / 64 terms (as shipped)": Representation(None, 64),
    "64 / 64": Representation(64, 64),
    "128 / 128": Representation(128, 128),
    "256 / 256": Representation(256, 256),
    "all / all": Representation(None, None),
    "64 / 128": Representation(64, 128),
    "all / 128": Representation(None, 128),
    "corpus IDF, 64 / 64": Representation(64, 64, corpus_idf=True),
    "corpus IDF, all / all": Representation(None, None, corpus_idf=True),
    "saturated counts, 64 / 64": Representation(64, 64, _saturated),
    "title x3, 64 / 64": Representation(64, 64, title_extra=2),
    "title x3, 64 / 128": Representation(64, 128, title_extra=2),
    "title x3, all / all": Representation(None, None, title_extra=2),
}
"""Representations compared by `--signals` (article terms / story terms)."""


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve (ties count half)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels) == 1
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    pos, neg = int(y.sum()), int((~y).sum())
    if not pos or not neg:
        raise ValueError("roc_auc needs positive and negative pairs")
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def recall_at_precision(scores: Sequence[float], labels: Sequence[int], floor: float) -> float:
    """The highest recall of a cut on the scores whose precision is at least `floor`."""
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    # A cut keeps every pair at or above a score: evaluate at the last pair of each tie.
    ranked, hits = s[order], np.cumsum(np.asarray(labels)[order])
    ends = np.append(ranked[1:] != ranked[:-1], True)
    precision = hits / np.arange(1, len(s) + 1)
    ok = ends & (precision >= floor)
    return float(hits[ok].max() / hits[-1]) if ok.any() and hits[-1] else 0.0


def _weigh(
    counts: Mapping[str, int], rep: Representation, idf_of: Callable[[str], float]
) -> dict[int, float]:
    weights = {}
    for term, count in counts.items():
        inv = idf_of(term)
        if inv > 0:
            weights[term_id(term)] = rep.tf(count) * inv * KIND_WEIGHT.get(term[0], 1.0)
    top = sorted(weights.items(), key=lambda kv: -kv[1])[: rep.article_terms]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: w / norm for t, w in top}


def _cosine(vec: Mapping[int, float], profile: Mapping[int, float]) -> float:
    norm = math.sqrt(sum(w * w for w in profile.values())) or 1.0
    return min(sum(w * profile[t] for t, w in vec.items() if t in profile) / norm, 1.0)


def signal_pairs(
    corpus: Corpus, settings: DedupSettings, model: Model
) -> tuple[list[int], dict[str, list[float]]]:
    """The teacher-forced pairs' labels and, per signal, each pair's score."""
    feats = [extract(a.title, a.text) for a in corpus.articles]
    corpus_df: Counter[str] = Counter()
    for f in feats:
        corpus_df.update(f.terms.keys())
    n_corpus = len(feats)
    df: Counter[int] = Counter()
    profiles: dict[str, dict[str, dict[int, float]]] = {name: {} for name in SIGNALS}
    labels: list[int] = []
    scores: dict[str, list[float]] = {"model": [], "cosine (shipped)": []}
    scores.update({name: [] for name in SIGNALS})
    for n_docs, step in enumerate(teacher_forced(corpus.articles, corpus.gold, settings)):
        f = feats[n_docs]
        title = extract(step.article.title, "").terms
        vecs = {}
        for name, rep in SIGNALS.items():
            counts = Counter(f.terms)
            for term, count in title.items():
                counts[term] += rep.title_extra * count

            def idf_of(term: str, rep: Representation = rep, n: int = n_docs) -> float:
                if rep.corpus_idf:
                    return max(math.log(n_corpus / (corpus_df[term] + 0.5)), 0.0)
                return idf(df.get(term_id(term), 0), n, term)

            vecs[name] = _weigh(counts, rep, idf_of)
        for cand, row in zip(step.candidates, step.rows, strict=True):
            labels.append(int(cand.story.story_id == step.target))
            scores["model"].append(model.probability(row))
            scores["cosine (shipped)"].append(row[0])
            for name in SIGNALS:
                scores[name].append(_cosine(vecs[name], profiles[name][cand.story.story_id]))
        joined = step.target if step.target is not None else step.article.item_id
        for name, rep in SIGNALS.items():
            profile = dict(profiles[name].get(joined, {}))
            for t, w in vecs[name].items():
                profile[t] = profile.get(t, 0.0) + w
            top = sorted(profile.items(), key=lambda kv: -kv[1])[: rep.story_terms]
            profiles[name][joined] = dict(top)
        df.update({term_id(t) for t in f.terms})
    return labels, scores


def print_signals(corpus: Corpus, settings: DedupSettings, model: Model) -> None:
    """One line per signal: ROC AUC and recall at the model's pair precision."""
    labels, scores = signal_pairs(corpus, settings, model)
    kept = [y for y, p in zip(labels, scores["model"], strict=True) if p >= model.threshold]
    floor = sum(kept) / len(kept) if kept else 1.0
    print(
        f"{corpus.name}: {len(labels)} pairs, {sum(labels)} positive; the model's pair "
        f"precision at {model.threshold}: {floor:.3f}"
    )
    print(f"  {'signal (article / story terms)':34s} ROC AUC  recall at P {floor:.3f}")
    for name, s in scores.items():
        print(
            f"  {name:34s} {roc_auc(s, labels):.4f}   {recall_at_precision(s, labels, floor):.3f}"
        )


def main() -> None:
    """Print, per corpus, how many articles each stage loses."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", help="the corpora folder (default: shared/corpora beside)")
    ap.add_argument("--model", type=Path, help="a model file (default: the shipped one)")
    ap.add_argument("--window", type=float, help="window_hours (default: the config default)")
    ap.add_argument(
        "--signals", action="store_true", help="compare single signals over the pairs instead"
    )
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
        if args.signals:
            print_signals(corpus, settings, model)
            continue
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
