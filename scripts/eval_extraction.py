#!/usr/bin/env python
"""Precision/recall/F1 of the project's HTML path beside bare trafilatura, in one run.

Sets (from the development corpora, see their README):
  trafilatura  eval/*.html.gz + evaldata.json: `with` snippets must appear, `without`
               snippets must not (trafilatura's own scoring: a snippet counts as found
               after whitespace normalisation; P/R/F1 over all snippets).
  readability  test-pages/*/source.html vs expected.html (readability's output, a
               reference, not truth): bag-of-words P/R/F1, micro-averaged over pages.

The project's side runs the real `Cleaner` (time-limited extraction process, line
rules, phrase lists from config/); its output is the headline found in the page
text plus the article text. Bare trafilatura is `trafilatura.extract(html, url)`
with default options. Usage:

    python scripts/eval_extraction.py [--corpora PATH] [--set trafilatura|readability|all]
                                      [--limit N] [--option key=value ...]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpora import ROOT, corpora_dir

sys.path.insert(0, str(ROOT))

from monitor.clean import Cleaner, normalize_text
from monitor.config import CleanSettings, load_settings
from monitor.model import Article, RawItem


@dataclass
class Page:
    name: str
    url: str | None
    html: str
    gold: dict[str, list[str]] | str
    """trafilatura set: {"with": [...], "without": [...]}; readability set: reference text."""


def _read(path: Path) -> str:
    from trafilatura.utils import decode_file

    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    # Pages come in many encodings; both systems get the same decoded text,
    # as the worker's connectors hand `html` over as str.
    return str(decode_file(data))


def trafilatura_pages(base: Path) -> Iterator[Page]:
    """Yield the pages of the trafilatura evaluation set."""
    gold = json.loads((base / "evaldata.json").read_text(encoding="utf-8"))
    for url, item in gold.items():
        path = base / "eval" / f"{item['file']}.gz"
        if not path.exists():
            path = base / "eval" / item["file"]
        if path.exists():
            yield Page(
                item["file"], url, _read(path), {"with": item["with"], "without": item["without"]}
            )


def _html_text(html: str) -> str:
    import lxml.html

    tree = lxml.html.fromstring(html)
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    return str(tree.text_content())


def readability_pages(base: Path) -> Iterator[Page]:
    """Yield the pages of the readability test set, with their reference text."""
    for folder in sorted(p for p in (base / "test-pages").iterdir() if p.is_dir()):
        source = next(
            (folder / n for n in ("source.html.gz", "source.html") if (folder / n).exists()), None
        )
        expected = next(
            (folder / n for n in ("expected.html.gz", "expected.html") if (folder / n).exists()),
            None,
        )
        if source is None or expected is None:
            continue
        yield Page(folder.name, None, _read(source), _html_text(_read(expected)))


_WORD = re.compile(r"\w+")


def _flat(text: str) -> str:
    # The project unifies quotes („“ ’ ʼ -> " '): normalise both sides, for both
    # systems alike, so a snippet is not "missed" for its quote marks alone.
    return " ".join(normalize_text(text).split())


class Score:
    """Counts true/false positives/negatives and prints P/R/F1."""

    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0
        self.seconds = 0.0
        self.pages = 0
        self.empty = 0

    def snippets(self, text: str, gold: dict[str, list[str]]) -> None:
        text = _flat(text)
        for snippet in gold["with"]:
            if _flat(snippet) in text:
                self.tp += 1
            else:
                self.fn += 1
        for snippet in gold["without"]:
            if _flat(snippet) in text:
                self.fp += 1

    def words(self, text: str, reference: str) -> None:
        got = Counter(w.casefold() for w in _WORD.findall(text))
        want = Counter(w.casefold() for w in _WORD.findall(reference))
        common = sum((got & want).values())
        self.tp += common
        self.fp += sum(got.values()) - common
        self.fn += sum(want.values()) - common

    def line(self, name: str) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        rate = self.pages / self.seconds if self.seconds else 0.0
        return (
            f"  {name:<22} P={p:.4f}  R={r:.4f}  F1={f:.4f}   "
            f"empty/rejected={self.empty:<4} {rate:5.1f} pages/s"
        )


def project_extractor(
    settings: CleanSettings, config_dir: Path
) -> tuple[Cleaner, Callable[[Page], str]]:
    """Return the cleaner and a function giving the project's extracted text for a page."""
    cleaner = Cleaner.from_settings(settings, config_dir)

    def run(page: Page) -> str:
        # Each page its own source: a corpus is not a stream from one site, so
        # no template is learned across unrelated pages.
        result = cleaner.clean(
            RawItem(input_id=page.name, source=page.name, html=page.html, url=page.url)
        )
        if not isinstance(result, Article):
            return ""
        heads = [r.text for r in result.removed if r.rule == "headline"]
        return "\n".join([*heads, result.text])

    return cleaner, run


def bare_extractor(page: Page) -> str:
    """Bare trafilatura with its default options."""
    import trafilatura

    return trafilatura.extract(page.html, url=page.url) or ""


def evaluate(pages: list[Page], systems: dict[str, Callable[[Page], str]]) -> dict[str, Score]:
    """Run every system on every page; return their scores."""
    scores = {name: Score() for name in systems}
    for page in pages:
        for name, run in systems.items():
            start = time.perf_counter()
            text = run(page)
            score = scores[name]
            score.seconds += time.perf_counter() - start
            score.pages += 1
            score.empty += not text
            if isinstance(page.gold, dict):
                score.snippets(text, page.gold)
            else:
                score.words(text, page.gold)
    return scores


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
    args = parser.parse_args(argv)

    base = corpora_dir(args.corpora) / "extraction"
    if not base.is_dir():
        print(f"no extraction corpora at {base}: nothing to evaluate (use --corpora PATH)")
        return 0
    settings = load_settings(args.config)
    clean = settings.clean.model_copy(update=_options(args.option))
    CleanSettings.model_validate(clean.model_dump())

    sets: dict[str, Callable[[Path], Iterator[Page]]] = {}
    if args.set in ("trafilatura", "all") and (base / "trafilatura").is_dir():
        sets["trafilatura"] = trafilatura_pages
    if args.set in ("readability", "all") and (base / "readability").is_dir():
        sets["readability"] = readability_pages
    if not sets:
        print(f"no evaluation set found under {base}")
        return 0

    cleaner, project = project_extractor(clean, settings.config_dir)
    print(f"project options: {clean.model_dump(mode='json')}")
    try:
        for name, loader in sets.items():
            pages = list(itertools.islice(loader(base / name), args.limit or None))
            scores = evaluate(pages, {"bare trafilatura": bare_extractor, "project": project})
            unit = "snippets" if name == "trafilatura" else "words vs expected.html"
            print(f"{name} set: {len(pages)} pages ({unit})")
            for system, score in scores.items():
                print(score.line(system))
    finally:
        cleaner.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
