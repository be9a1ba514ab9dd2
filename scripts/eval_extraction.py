#!/usr/bin/env python
"""Precision/recall/F1 of the project's HTML path beside bare trafilatura, in one run.

Sets and scoring: `scripts/extraction_scoring.py` (trafilatura's snippets; readability's
expected text). The project's side runs the real `Cleaner` (time-limited extraction
process, line rules, phrase lists from config/); its output is the headline found in the
page text plus the article text. Bare trafilatura is `trafilatura.extract(html, url)`
with default options. After each set the pages the project *loses* are listed (it scores
under 0.5 where bare trafilatura scores over 0.8). `--byline` instead compares the
project's byline author search (`monitor.clean.byline`) with trafilatura's
`extract_author` on every page: the pages where they differ, and the CPU of each.
`--passes` compares each main-text pass the project runs on its shared pruned tree
(`monitor.clean.passes`) with trafilatura's `bare_extraction` on every page: the texts
that differ, and the CPU of each. Usage:

    python scripts/eval_extraction.py [--corpora PATH] [--set trafilatura|readability|all]
                                      [--limit N] [--option key=value ...] [--byline|--passes]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

from corpora import ROOT, corpora_dir

sys.path.insert(0, str(ROOT))

from extraction_scoring import (
    BARE,
    SETS,
    bare_extractor,
    check_byline,
    evaluate,
    lost_pages,
    project_extractor,
    short_pages,
)

from monitor.config import CleanSettings, load_settings


def _options(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key] = yaml_value(value)
    return out


def yaml_value(value: str) -> object:
    import yaml

    return yaml.safe_load(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", help="corpora folder (default: ../shared/corpora)")
    parser.add_argument("--set", choices=["trafilatura", "readability", "all"], default="all")
    parser.add_argument("--limit", type=int, default=0, help="at most N pages per set")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        help="override a clean setting, e.g. favor_precision=true",
    )
    parser.add_argument("--config", help="config file (default: config/monitor.yaml)")
    parser.add_argument(
        "--byline", action="store_true", help="compare the byline author search instead"
    )
    parser.add_argument(
        "--passes", action="store_true", help="compare the main-text passes instead"
    )
    args = parser.parse_args(argv)

    base = corpora_dir(args.corpora) / "extraction"
    if not base.is_dir():
        print(f"no extraction corpora at {base}: nothing to evaluate (use --corpora PATH)")
        return 0
    settings = load_settings(args.config)
    clean = settings.clean.model_copy(update=_options(args.option))
    CleanSettings.model_validate(clean.model_dump())

    sets = [name for name in SETS if args.set in (name, "all") and (base / name).is_dir()]
    if args.byline:
        return _byline(base, sets, args.limit)
    if args.passes:
        return _passes(base, sets, args.limit)
    cleaner, project = project_extractor(clean, settings.config_dir)
    print(f"project options: {clean.model_dump(mode='json')}")
    try:
        for name in sets:
            pages = list(itertools.islice(SETS[name](base / name), args.limit or None))
            scores = evaluate(pages, {BARE: bare_extractor, "project": project})
            unit = "snippets" if name == "trafilatura" else "words vs expected.html"
            print(f"{name} set: {len(pages)} pages ({unit})")
            for system, score in scores.items():
                print(score.line(system))
            exempt = short_pages(pages, clean.min_chars)
            lost = lost_pages(scores["project"], scores[BARE], exempt)
            print(
                f"  pages lost (project < 0.5 where bare > 0.8): {len(lost)}"
                f" ({len(exempt)} pages with under min_chars of reference text not counted)"
            )
            for page, ours, bare in lost:
                print(f"    {page:<40} project {ours:.2f}  bare {bare:.2f}")
            if not lost:
                print("    none")
    finally:
        cleaner.close()
    return 0


def _byline(base: Path, sets: list[str], limit: int) -> int:
    """Print where the byline author search differs from trafilatura's; 1 if anywhere."""
    differ = 0
    for name in sets:
        pages = list(itertools.islice(SETS[name](base / name), limit or None))
        check = check_byline(pages)
        n = max(check.pages, 1)
        print(
            f"{name} set: {check.pages} pages, {check.found} with a byline author;"
            f" trafilatura extract_author {check.trafilatura_cpu / n * 1000:.2f} ms CPU a page,"
            f" project find_author {check.project_cpu / n * 1000:.2f} ms"
            f" ({check.trafilatura_cpu / max(check.project_cpu, 1e-9):.1f}x cheaper);"
            f" different answers: {len(check.differ)}"
        )
        for page, theirs, ours in check.differ:
            print(f"    {page:<40} trafilatura {theirs!r}  project {ours!r}")
        differ += len(check.differ)
    return 1 if differ else 0


PASSES = {"fast precise": (True, True), "full precise": (True, False), "default": (False, False)}


def _passes(base: Path, sets: list[str], limit: int) -> int:
    """Print where a pass on the shared pruned tree differs from `bare_extraction`; 1 if any."""
    import time

    import trafilatura
    from trafilatura.utils import load_html

    from monitor.clean.passes import prune, text

    differ = 0
    for name in sets:
        pages = list(itertools.islice(SETS[name](base / name), limit or None))
        theirs = dict.fromkeys(PASSES, 0.0)
        ours = dict.fromkeys(PASSES, 0.0)
        prune_cpu, count = 0.0, 0
        for page in pages:
            raw = load_html(page.html)
            if raw is None:
                continue
            count += 1
            start = time.process_time()
            pruned = prune(raw, page.html)
            prune_cpu += time.process_time() - start
            for kind, (precise, fast) in PASSES.items():
                start = time.process_time()
                doc = trafilatura.bare_extraction(
                    raw, url=page.url, fast=fast, favor_precision=precise, include_comments=False
                )
                theirs[kind] += time.process_time() - start
                start = time.process_time()
                found = text(pruned, page.url, precise, fast, True)
                ours[kind] += time.process_time() - start
                if found != (None if doc is None else getattr(doc, "text", None)):
                    differ += 1
                    print(f"    {page.name:<40} {kind}: the texts differ")
        n = max(count, 1) / 1000
        print(
            f"{name} set: {count} pages; prune once {prune_cpu / n:.2f} ms CPU a page; "
            + "; ".join(
                f"{kind} pass: bare_extraction {theirs[kind] / n:.2f} ms, shared tree"
                f" {ours[kind] / n:.2f} ms"
                for kind in PASSES
            )
        )
    print(f"texts that differ: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
