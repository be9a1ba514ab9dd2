#!/usr/bin/env python
"""Pages per second of the clean stage beside bare trafilatura, and the 5 MB inputs.

Runs (single process, by hand; never in tests):
  1. HTML pages from the trafilatura development set (first --pages pages): the
     project's `Cleaner` (extraction process, line rules, templates) vs bare
     `trafilatura.extract(html)` in-process with default options;
  2. the seed text dumps through the line rules (--repeat times each);
  3. one synthetic 5 MB HTML page and one 5 MB text dump: time and outcome.

    python scripts/bench_clean.py [--corpora PATH] [--pages 200] [--repeat 200] [--html-only]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import resource
import sys
import time
from pathlib import Path

from corpora import ROOT, corpora_dir

sys.path.insert(0, str(ROOT))

from monitor.clean import Cleaner
from monitor.config import load_settings
from monitor.model import Article, RawItem


def html_pages(base: Path, limit: int) -> list[tuple[str, str]]:
    """Return (url, html) of the first `limit` pages of the trafilatura set."""
    index = base / "extraction" / "trafilatura" / "evaldata.json"
    if not index.exists():
        return []
    gold = json.loads(index.read_text(encoding="utf-8"))
    out = []
    for url, item in itertools.islice(gold.items(), limit):
        path = index.parent / "eval" / f"{item['file']}.gz"
        if path.exists():
            out.append((url, gzip.decompress(path.read_bytes()).decode("utf-8", "replace")))
    return out


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8.1f} pages/s  ({n} pages in {seconds:.1f}s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--html-only", action="store_true", help="only part 1, the HTML rate")
    args = parser.parse_args(argv)

    import trafilatura

    settings = load_settings()
    with Cleaner.from_settings(settings.clean, settings.config_dir) as cleaner:
        cleaner.html.extract("<p>warm up</p>", None)  # process start is not a page's cost
        pages = html_pages(corpora_dir(args.corpora), args.pages)
        if pages:
            mb = sum(len(h) for _, h in pages) / 1e6
            print(f"HTML: {len(pages)} pages of the trafilatura set ({mb:.1f} MB)")
            start = time.perf_counter()
            for url, html in pages:
                trafilatura.extract(html, url=url)
            print(f"  bare trafilatura   {rate(len(pages), time.perf_counter() - start)}")
            start = time.perf_counter()
            for n, (url, html) in enumerate(pages):
                cleaner.clean(RawItem(input_id=str(n), source=str(n), html=html, url=url))
            print(f"  project Cleaner    {rate(len(pages), time.perf_counter() - start)}")
        else:
            print("no trafilatura development set found: HTML rate skipped (use --corpora)")
        if args.html_only:
            return 0

        seeds = sorted((ROOT / "seeds").glob("*.txt"))
        texts = [p.read_text(encoding="utf-8") for p in seeds]
        start = time.perf_counter()
        for n in range(args.repeat):
            for i, text in enumerate(texts):
                cleaner.clean(RawItem(input_id=f"{n}-{i}", source=f"seed{i}", text=text))
        count = args.repeat * len(texts)
        print(f"text dumps: seeds x {args.repeat}")
        print(f"  project Cleaner    {rate(count, time.perf_counter() - start)}")

        para = (
            "<p>North Korean troops were seen near the front line in Kursk, two Ukrainian "
            "officials said on Tuesday, in the first such report this month.</p>\n"
        )
        body = para * (5_000_000 // len(para))
        big_html = f"<html><body><article>{body}</article></body></html>"
        line = "Troops were seen near the front line in Kursk, officials said on Tuesday.\n"
        big_text = line * (5_000_000 // len(line))
        for name, raw in (
            ("5 MB HTML page", RawItem(input_id="big.html", source="big", html=big_html)),
            ("5 MB text dump", RawItem(input_id="big.txt", source="big", text=big_text)),
        ):
            start = time.perf_counter()
            result = cleaner.clean(raw)
            took = time.perf_counter() - start
            outcome = (
                f"article, {len(result.text)} chars"
                if isinstance(result, Article)
                else f"rejected: {result.error}"
            )
            print(f"{name}: {took:.2f}s -> {outcome}")
        start = time.perf_counter()
        trafilatura.extract(big_html)
        print(f"5 MB HTML page, bare trafilatura: {time.perf_counter() - start:.2f}s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: worker {rss:.0f} MB, extraction process {child:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
