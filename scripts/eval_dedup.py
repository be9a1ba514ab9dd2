"""Evaluate story dedup on ECB+ (`stories/ecbplus-dev.jsonl`): B-cubed and pairwise P/R/F1.

Default: replay the corpus through the real CLI (`python -m monitor replay ... --no-filter
--explain`) with the default dedup configuration and score the explained decisions.
`--in-process` drives `Deduplicator` directly (same code, no pipeline), for tuning.

    python scripts/eval_dedup.py [--in-process] [--corpora PATH] [--set dedup.KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpora import ROOT, corpora_dir

sys.path.insert(0, str(ROOT))

from monitor.clean.textdate import text_date
from monitor.config import CleanSettings, DedupSettings
from monitor.dedup import Deduplicator
from monitor.model import Article, stable_id

CORPUS = "stories/ecbplus-dev.jsonl"


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


def confusion(pred: Mapping[str, str], gold: Mapping[str, str]) -> list[str]:
    """Where the errors are: items merged into a sibling's or another topic's story, splits."""
    members: dict[str, list[str]] = defaultdict(list)
    for i, story in pred.items():
        members[story].append(gold[i])
    sibling = cross = 0
    for golds in members.values():
        major = max(set(golds), key=golds.count)
        for g in golds:
            if g != major:
                # ECB+ gold ids are "<topic>_ecb" / "<topic>_ecbplus": one topic, two events.
                same_topic = g.split("_")[0] == major.split("_")[0]
                sibling += same_topic
                cross += not same_topic
    pieces: dict[str, set[str]] = defaultdict(set)
    for i, g in gold.items():
        pieces[g].add(pred[i])
    split = sorted((len(v), g) for g, v in pieces.items() if len(v) > 1)
    return [
        f"items in a story led by their sibling event: {sibling}; by another topic: {cross}",
        f"gold stories split over several predicted ones: {len(split)} of {len(pieces)} "
        f"(most pieces: {', '.join(f'{g} {n}' for n, g in split[-4:][::-1])})",
    ]


def _overrides(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """`dedup.KEY=JSON` / `clean.KEY=JSON` pairs -> {section: {key: value}}."""
    out: dict[str, dict[str, Any]] = {"dedup": {}, "clean": {}}
    for pair in pairs:
        key, _, value = pair.partition("=")
        section, _, name = key.rpartition(".")
        out.setdefault(section or "dedup", {})[name] = json.loads(value)
    return out


def _date_of(it: Mapping[str, Any], clean: CleanSettings) -> datetime | None:
    """The publish date the clean stage reads from the item's top (None when off)."""
    if not clean.text_dates:
        return None
    title = it.get("title") or ""
    return text_date(
        f"{title}\n{it.get('text') or ''}",
        chars=clean.text_date_chars + len(title) + 1,
        order=clean.numeric_date_order,
    )


def window_ceiling(
    items: list[dict[str, Any]], clean: CleanSettings, window_hours: float
) -> dict[str, str]:
    """The best clustering the time window allows: gold stories cut where dates part.

    An item joins a story only within the window of its event time (undated: the
    fetch time, i.e. now), so a gold story whose items are dated weeks apart cannot
    be one predicted story however good the similarity is.
    """
    now = datetime.now(UTC).timestamp()
    by_gold: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for it in items:
        when = _date_of(it, clean)
        by_gold[it["gold_story"]].append((when.timestamp() if when else now, it["id"]))
    out: dict[str, str] = {}
    for story, dated in by_gold.items():
        piece, last = 0, None
        for t, item in sorted(dated):
            if last is not None and t - last > window_hours * 3600:
                piece += 1
            out[item], last = f"{story}#{piece}", t
    return out


def run_in_process(
    items: list[dict[str, Any]], overrides: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """Assign every item with a fresh Deduplicator; return input id -> story id."""
    settings = DedupSettings(**overrides["dedup"])
    clean = CleanSettings(**overrides["clean"])
    pred: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        dedup = Deduplicator.open(settings, Path(tmp) / "state.db")
        try:
            for it in items:
                art = Article(
                    item_id=stable_id(it.get("url") or it["id"]),
                    input_id=it["id"],
                    source="ecbplus",
                    title=it.get("title") or "",
                    text=it.get("text") or "",
                    url=it.get("url"),
                    published=_date_of(it, clean),
                )
                hit = dedup.identity(art)
                pred[it["id"]] = hit.story_id if hit else dedup.assign(art).story_id
        finally:
            dedup.close()
    return pred


def run_cli(path: Path, overrides: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Replay the corpus through `python -m monitor replay`; return input id -> story id."""
    import yaml

    pred: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.yaml"
        config: dict[str, Any] = {"state": {"path": str(Path(tmp) / "state.db")}}
        config.update({section: keys for section, keys in overrides.items() if keys})
        cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
        explain = Path(tmp) / "explain.jsonl"
        cmd = [
            sys.executable,
            "-m",
            "monitor",
            "replay",
            str(path),
            "--config",
            str(cfg),
            "--no-filter",
            "--sink",
            f"jsonl:{Path(tmp) / 'out.jsonl'}",
            "--explain",
            str(explain),
        ]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"the CLI failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        for line in explain.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            # An item that was rejected has no story: it then counts as a cluster of its own.
            pred[rec["input_id"]] = rec.get("story_id") or f"rejected:{rec['input_id']}"
    return pred


def main() -> None:
    """Run the evaluation and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--in-process", action="store_true", help="drive Deduplicator directly")
    ap.add_argument("--corpora", help="the corpora folder (default: shared/corpora beside)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=JSON",
        help="override a dedup (or clean.KEY) setting, for tuning; the gate uses defaults",
    )
    args = ap.parse_args()
    path = corpora_dir(args.corpora) / CORPUS
    if not path.exists():
        print(f"corpus not found: {path} (pass --corpora PATH); nothing to evaluate")
        return
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    gold = {it["id"]: it["gold_story"] for it in items}
    overrides = _overrides(args.set)
    start = time.perf_counter()
    pred = run_in_process(items, overrides) if args.in_process else run_cli(path, overrides)
    elapsed = time.perf_counter() - start
    missing = [i for i in gold if i not in pred]
    for i in missing:
        pred[i] = f"missing:{i}"
    mode = "in-process" if args.in_process else "cli"
    bp, br, bf = bcubed(pred, gold)
    pp, pr, pf = pairwise(pred, gold)
    print(
        f"ecbplus-dev: {len(items)} items, {len(set(gold.values()))} gold stories, "
        f"{len(set(pred.values()))} predicted ({mode}, {elapsed:.1f}s"
        f"{', ' + str(len(missing)) + ' missing from explain' if missing else ''})"
    )
    print(f"B-cubed   P {bp:.3f}  R {br:.3f}  F1 {bf:.3f}")
    print(f"pairwise  P {pp:.3f}  R {pr:.3f}  F1 {pf:.3f}")
    for line in confusion(pred, gold):
        print(line)
    rejected = [i for i, story in pred.items() if story.startswith("rejected:")]
    if rejected:
        # The clean stage rejects very short items (each then counts as a story of
        # its own above); this line shows dedup's own share of the figures.
        kept = {i: gold[i] for i in gold if i not in set(rejected)}
        kp, kr, kf = bcubed({i: pred[i] for i in kept}, kept)
        print(
            f"B-cubed over the {len(kept)} items the clean stage kept "
            f"({len(rejected)} rejected): P {kp:.3f}  R {kr:.3f}  F1 {kf:.3f}"
        )
    clean = CleanSettings(**overrides["clean"])
    window = DedupSettings(**overrides["dedup"]).window_hours
    cp, cr, cf = bcubed(window_ceiling(items, clean, window), gold)
    dates = "the dates read from the texts" if clean.text_dates else "every item undated"
    print(
        f"ceiling of the {window:g} h window with {dates} (a perfect similarity): "
        f"B-cubed P {cp:.3f}  R {cr:.3f}  F1 {cf:.3f}"
    )
    print(
        f"targets: B-cubed P >= 0.95 {'ok' if bp >= 0.95 else 'MISSED'}, "
        f"F1 >= 0.90 {'ok' if bf >= 0.90 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
