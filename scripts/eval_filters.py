"""Evaluate the shipped filters: the seeds must pass, unrelated real news must not.

Run by hand: `python scripts/eval_filters.py [--corpora PATH] [--config PATH] [--show N]`.
Positives are the five seeds in `seeds/`; negatives are the ECB+ development
articles in `<corpora>/stories/ecbplus-dev.jsonl` (celebrity news, earthquakes,
trials, shootings, acquisitions, ...: none about North Korean troops in the
war on Ukraine). Prints precision, recall and F1 for "relevant", and the
negatives that passed, with the reason, so a rule that is too loose shows.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from corpora import ROOT, corpora_dir

sys.path.insert(0, str(ROOT))

from monitor.config import ConfigError, load_settings
from monitor.filters import RelevanceFilter
from monitor.model import Article


def main() -> int:
    """Print precision/recall/F1 of the relevance verdict on seeds vs ECB+."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=corpora_dir())
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "monitor.yaml")
    parser.add_argument("--show", type=int, default=10, help="false positives to print")
    args = parser.parse_args()
    corpus = args.corpora / "stories" / "ecbplus-dev.jsonl"
    if not corpus.is_file():
        print(f"corpus not found: {corpus} (pass --corpora PATH); nothing to evaluate")
        return 0
    try:
        settings = load_settings(args.config)
        relevance = RelevanceFilter.from_settings(
            settings.filters, settings.config_dir, str(args.config)
        )
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2

    items: list[tuple[Article, bool]] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        items.append(
            (
                Article(item_id=path.stem, input_id=path.name, source="seed", title="", text=text),
                True,
            )
        )
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            article = Article(
                item_id=row["id"],
                input_id=row["id"],
                source="ecbplus",
                title=row.get("title") or "",
                text=row.get("text") or "",
            )
            items.append((article, False))

    tp = fp = fn = tn = near = 0
    false_positives: list[tuple[Article, str]] = []
    for article, gold in items:
        verdict = relevance.evaluate(article)
        near += int(not gold and bool(verdict.entities))
        if verdict.relevant and gold:
            tp += 1
        elif verdict.relevant:
            fp += 1
            false_positives.append((article, verdict.reason))
        elif gold:
            fn += 1
            print(f"MISSED {article.input_id}: {verdict.reason}")
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"{tp + fn} on-topic (seeds), {fp + tn} off-topic (ECB+ dev)")
    print(f"off-topic items naming a gazetteer entity (near misses): {near}")
    print(f"tp={tp} fp={fp} fn={fn} tn={tn}")
    print(f"precision={precision:.3f} recall={recall:.3f} f1={f1:.3f}")
    for article, reason in false_positives[: args.show]:
        print(f"FALSE POSITIVE {article.input_id}: {article.title[:70]!r}\n  {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
