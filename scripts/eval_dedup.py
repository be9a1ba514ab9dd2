"""Evaluate story dedup on the development corpora: the monitor beside a TF-IDF baseline.

For each corpus in `stories/` (ecbplus-dev, gva-dev): replay it through the real CLI
(`news-monitor replay FILE --no-filter --explain`, default configuration, run in this
process) and score the decisions with B-cubed and pairwise P/R/F1 (an item the clean
stage rejected counts as a story of its own). Beside it, a plain TF-IDF single pass
computed here: IDF fitted on the corpus itself, items in file (publish) order, each
joining the most similar story (centroid cosine) within 3 days when dated (file order is
publish order), at the
best threshold whose B-cubed precision is >= 0.95 (an upper bound for such a pass).

    python scripts/eval_dedup.py [--corpora PATH] [--set dedup.KEY=JSON ...]
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from corpora import ROOT, corpora_dir
from dedup_scoring import bcubed

sys.path.insert(0, str(ROOT))

from monitor.cli import main as cli_main

CORPORA = ("ecbplus-dev", "gva-dev")
BASELINE_DAYS = 3
BASELINE_MIN_P = 0.95
_TOKEN = re.compile(r"[^\W\d_]{2,}")


def pairwise(pred: Mapping[str, str], gold: Mapping[str, str]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 over all pairs of items."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(list(gold), 2):
        same_p, same_g = pred[a] == pred[b], gold[a] == gold[b]
        tp += same_p and same_g
        fp += same_p and not same_g
        fn += same_g and not same_p
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def replay(path: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, str]:
    """Replay a corpus through the CLI (in this process); return input id -> story id."""
    import yaml

    pred: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.yaml"
        config: dict[str, Any] = {
            "state": {"path": str(Path(tmp) / "state.db")},
            "logging": {"level": "WARNING"},
        }
        config.update({k: dict(v) for k, v in (overrides or {}).items() if v})
        cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
        explain = Path(tmp) / "explain.jsonl"
        args = ["replay", str(path), "--config", str(cfg), "--no-filter"]
        args += ["--sink", f"jsonl:{Path(tmp) / 'out.jsonl'}", "--explain", str(explain)]
        code = cli_main(args)
        if code != 0:
            sys.exit(f"news-monitor {' '.join(args)} failed with exit code {code}")
        for line in explain.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            # A rejected item has no story: it counts as a story of its own.
            pred[rec["input_id"]] = rec.get("story_id") or f"rejected:{rec['input_id']}"
    return pred


def _vectors(items: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
    docs = [
        Counter(_TOKEN.findall(f"{it.get('title') or ''}\n{it.get('text') or ''}".lower()))
        for it in items
    ]
    df = Counter(t for d in docs for t in d)
    n = len(docs)
    out = []
    for d in docs:
        v = {t: (1 + math.log(c)) * math.log(n / df[t]) for t, c in d.items()}
        norm = math.sqrt(sum(w * w for w in v.values())) or 1.0
        out.append({t: w / norm for t, w in v.items() if w > 0})
    return out


def tfidf_single_pass(
    items: Sequence[Mapping[str, Any]], vectors: Sequence[dict[str, float]], threshold: float
) -> dict[str, str]:
    """The baseline: join the most similar centroid within the window, else a new story."""
    sums: list[dict[str, float]] = []
    norms: list[float] = []
    last: list[float] = []
    postings: dict[str, set[int]] = defaultdict(set)
    expiry: list[tuple[float, int]] = []  # (last time, cluster): a heap
    pred: dict[str, str] = {}
    window = BASELINE_DAYS * 86400.0
    for it, vec in zip(items, vectors, strict=True):
        when = datetime.fromisoformat(it["published"]).timestamp() if it.get("published") else 0.0
        while expiry and expiry[0][0] < when - window:
            stamp, c = heapq.heappop(expiry)
            if stamp == last[c]:  # not extended since: out of the window for good (time order)
                for term in sums[c]:
                    postings[term].discard(c)
        dots: dict[int, float] = defaultdict(float)
        for t, w in vec.items():
            for c in postings.get(t, ()):
                dots[c] += w * sums[c][t]
        best, best_cos = -1, 0.0
        for c, dot in dots.items():
            cos = dot / norms[c]
            if cos > best_cos and abs(when - last[c]) <= window:
                best, best_cos = c, cos
        if best < 0 or best_cos < threshold:
            best = len(sums)
            sums.append({})
            norms.append(1.0)
            last.append(when)
        acc = sums[best]
        for t, w in vec.items():
            postings[t].add(best)
            acc[t] = acc.get(t, 0.0) + w
        norms[best] = math.sqrt(sum(w * w for w in acc.values())) or 1.0
        last[best] = max(last[best], when)
        heapq.heappush(expiry, (last[best], best))
        pred[it["id"]] = str(best)
    return pred


def best_baseline(
    items: Sequence[Mapping[str, Any]], gold: Mapping[str, str]
) -> tuple[float, tuple[float, float, float]]:
    """The baseline's best threshold (0.02 steps) with B-cubed P >= 0.95, and its scores."""
    best: tuple[float, tuple[float, float, float]] = (0.0, (0.0, 0.0, 0.0))
    vectors = _vectors(items)
    for step in range(5, 48):
        th = step / 50
        score = bcubed(tfidf_single_pass(items, vectors, th), gold)
        if score[0] >= BASELINE_MIN_P and score[2] > best[1][2]:
            best = (th, score)
    return best


def _overrides(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """`dedup.KEY=JSON` pairs -> {section: {key: value}}."""
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for pair in pairs:
        key, _, value = pair.partition("=")
        section, _, name = key.rpartition(".")
        out[section or "dedup"][name] = json.loads(value)
    return out


def main() -> None:
    """Run the evaluation and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", help="the corpora folder (default: shared/corpora beside)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=JSON",
        help="override a setting, for experiments; the gate uses the defaults",
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the TF-IDF baseline")
    args = ap.parse_args()
    folder = corpora_dir(args.corpora) / "stories"
    if not folder.is_dir():
        print(f"corpora not found: {folder} (pass --corpora PATH); nothing to evaluate")
        return
    overrides = _overrides(args.set)
    print(f"{'corpus':12s} {'':26s} {'B-cubed P / R / F1':>22s}   pairwise P / R / F1")
    for name in CORPORA:
        path = folder / f"{name}.jsonl"
        items = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
        gold = {it["id"]: it["gold_story"] for it in items}
        start = time.perf_counter()
        pred = replay(path, overrides)
        took = time.perf_counter() - start
        pred.update({i: f"missing:{i}" for i in gold if i not in pred})
        rejected = sum(s.startswith("rejected:") for s in pred.values())
        bp, br, bf = bcubed(pred, gold)
        pp, pr, pf = pairwise(pred, gold)
        print(
            f"{name:12s} {'news-monitor (CLI)':26s} {bp:.3f} / {br:.3f} / {bf:.3f}"
            f"   {pp:.3f} / {pr:.3f} / {pf:.3f}   ({len(items)} items, {rejected} rejected"
            f" by the clean stage, {took:.0f} s)"
        )
        if not args.no_baseline:
            th, (tp, tr, tf) = best_baseline(items, gold)
            label = f"TF-IDF single pass @ {th:.2f}"
            print(f"{'':12s} {label:26s} {tp:.3f} / {tr:.3f} / {tf:.3f}")


if __name__ == "__main__":
    main()
