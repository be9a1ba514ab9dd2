"""Story dedup on headline items: the story corpora with every text dropped, titles only.

Feeds that carry only titles (or one-line summaries) give dedup nothing but the headline.
This drives `Deduplicator` directly with each corpus item as a headline item (`text=""`,
`origin=entry`, its URL and, where the corpus has one, its publish date) and prints B-cubed
and pairwise precision/recall/F1 against the gold stories, and the biggest predicted story.

    python scripts/eval_headlines.py [--corpora PATH] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpora import ROOT, corpora_dir
from dedup_scoring import bcubed
from eval_dedup import pairwise

sys.path.insert(0, str(ROOT))

from monitor.config import DedupSettings
from monitor.dedup import Deduplicator
from monitor.model import Article, Origin, stable_id

SETS = ("stories/ecbplus-dev.jsonl", "stories/gva-dev.jsonl")


def _published(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def headline_stories(items: list[dict[str, Any]], settings: DedupSettings) -> dict[str, str]:
    """Assign every item, titles only, with a fresh Deduplicator: input id -> story id."""
    pred: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        dedup = Deduplicator.open(settings, Path(tmp) / "state.db")
        try:
            for it in items:
                art = Article(
                    item_id=stable_id(it.get("url") or it["id"]),
                    input_id=it["id"],
                    source=it.get("source") or "corpus",
                    title=it.get("title") or "",
                    text="",
                    url=it.get("url"),
                    published=_published(it.get("published")),
                    origin=Origin.ENTRY,
                )
                hit = dedup.identity(art)
                pred[it["id"]] = hit.story_id if hit else dedup.assign(art).story_id
        finally:
            dedup.close()
    return pred


def main() -> None:
    """Print the figures for each corpus found."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", help="the corpora folder (default: shared/corpora beside)")
    ap.add_argument("--set", action="append", default=[], help="dedup.KEY=JSON override")
    args = ap.parse_args()
    overrides = {}
    for pair in args.set:
        key, _, value = pair.partition("=")
        overrides[key.rpartition(".")[2]] = json.loads(value)
    settings = DedupSettings(**overrides)
    root = corpora_dir(args.corpora)
    for name in SETS:
        path = root / name
        if not path.is_file():
            print(f"{name}: not found under {root} (pass --corpora PATH)")
            continue
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        gold = {it["id"]: it["gold_story"] for it in items}
        pred = headline_stories(items, settings)
        bp, br, bf = bcubed(pred, gold)
        pp, pr, pf = pairwise(pred, gold)
        biggest = Counter(pred.values()).most_common(1)[0][1]
        print(
            f"{name}: {len(items)} headlines, {len(set(pred.values()))} stories "
            f"(gold {len(set(gold.values()))}, biggest {biggest}); "
            f"B-cubed P {bp:.3f} / R {br:.3f} / F1 {bf:.3f}; "
            f"pairwise P {pp:.3f} / R {pr:.3f} / F1 {pf:.3f}"
        )


if __name__ == "__main__":
    main()
