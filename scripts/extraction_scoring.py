"""Scoring of HTML extraction on the development corpora, shared by the script and the gate.

Sets (from the development corpora, see their README):
  trafilatura  eval/*.html.gz + evaldata.json: `with` snippets must appear, `without`
               snippets must not (trafilatura's own scoring: a snippet counts as found
               after whitespace normalisation; P/R/F1 over all snippets).
  readability  test-pages/*/source.html vs expected.html (readability's output, a
               reference, not truth): bag-of-words P/R/F1, micro-averaged over pages.

A page is *lost* by a system when it scores under LOST_BELOW where bare trafilatura
scores over BARE_ABOVE: per page, the word F1 against the expected text (readability
set), or the share of `with` snippets found (trafilatura set). Readability pages whose
expected text is shorter than the clean stage's `min_chars` are not articles to it
(rejected as intended) and are not counted as lost.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from monitor.clean import Cleaner, normalize_text
from monitor.config import CleanSettings
from monitor.model import Article, RawItem

LOST_BELOW = 0.5
BARE_ABOVE = 0.8
BARE = "bare trafilatura"
_WORD = re.compile(r"\w+")


@dataclass
class Page:
    """One evaluation page and its gold standard."""

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


SETS: dict[str, Callable[[Path], Iterator[Page]]] = {
    "trafilatura": trafilatura_pages,
    "readability": readability_pages,
}


def _flat(text: str) -> str:
    # The project unifies quotes („“ ’ ʼ -> " '): normalise both sides, for both
    # systems alike, so a snippet is not "missed" for its quote marks alone.
    return " ".join(normalize_text(text).split())


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def page_counts(text: str, gold: dict[str, list[str]] | str) -> tuple[int, int, int, float]:
    """(tp, fp, fn, per-page measure) of one extracted text against the page's gold."""
    if isinstance(gold, dict):
        flat = _flat(text)
        found = sum(_flat(s) in flat for s in gold["with"])
        fp = sum(_flat(s) in flat for s in gold["without"])
        fn = len(gold["with"]) - found
        return found, fp, fn, found / len(gold["with"]) if gold["with"] else 1.0
    got = Counter(w.casefold() for w in _WORD.findall(text))
    want = Counter(w.casefold() for w in _WORD.findall(gold))
    tp = sum((got & want).values())
    fp, fn = sum(got.values()) - tp, sum(want.values()) - tp
    return tp, fp, fn, _f1(tp, fp, fn)[2]


@dataclass
class Score:
    """Counts true/false positives/negatives over pages, and each page's measure."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    seconds: float = 0.0
    empty: int = 0
    per_page: dict[str, float] = field(default_factory=dict)

    def add(self, page: Page, text: str, seconds: float) -> None:
        """Score one page's extracted text."""
        tp, fp, fn, measure = page_counts(text, page.gold)
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        self.seconds += seconds
        self.empty += not text
        self.per_page[page.name] = measure

    @property
    def prf(self) -> tuple[float, float, float]:
        """Precision, recall, F1."""
        return _f1(self.tp, self.fp, self.fn)

    def line(self, name: str) -> str:
        """One printed line: P/R/F1, empty pages, pages/s."""
        p, r, f = self.prf
        pages = len(self.per_page)
        rate = pages / self.seconds if self.seconds else 0.0
        return (
            f"  {name:<22} P={p:.4f}  R={r:.4f}  F1={f:.4f}   "
            f"empty/rejected={self.empty:<4} {rate:5.1f} pages/s"
        )


def evaluate(pages: list[Page], systems: dict[str, Callable[[Page], str]]) -> dict[str, Score]:
    """Run every system on every page; return their scores."""
    scores = {name: Score() for name in systems}
    for page in pages:
        for name, run in systems.items():
            start = time.perf_counter()
            text = run(page)
            scores[name].add(page, text, time.perf_counter() - start)
    return scores


def short_pages(pages: list[Page], min_chars: int) -> set[str]:
    """Pages whose reference text is under `min_chars`: no article for the clean stage."""
    return {
        p.name
        for p in pages
        if isinstance(p.gold, str) and len(" ".join(p.gold.split())) < min_chars
    }


def lost_pages(
    ours: Score,
    bare: Score,
    exempt: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[tuple[str, float, float]]:
    """Pages `ours` loses: (name, our measure, bare's), worst first; `exempt` pages aside."""
    lost = [
        (name, ours.per_page[name], theirs)
        for name, theirs in bare.per_page.items()
        if theirs > BARE_ABOVE and ours.per_page.get(name, 0.0) < LOST_BELOW and name not in exempt
    ]
    return sorted(lost, key=lambda x: x[1] - x[2])


def bare_extractor(page: Page) -> str:
    """Bare trafilatura with its default options."""
    import trafilatura

    return trafilatura.extract(page.html, url=page.url) or ""


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


def project_texts(
    pages: list[Page], settings: CleanSettings, config_dir: Path, workers: int = 2
) -> dict[str, str]:
    """The project's text of every page, from `workers` cleaners (each its own process)."""
    from concurrent.futures import ThreadPoolExecutor

    def run(part: list[Page]) -> dict[str, str]:
        cleaner, project = project_extractor(settings, config_dir)
        with cleaner:
            return {page.name: project(page) for page in part}

    with ThreadPoolExecutor(workers) as pool:
        parts = pool.map(run, [pages[i::workers] for i in range(workers)])
    return {name: text for part in parts for name, text in part.items()}


@dataclass
class BylineCheck:
    """`byline.find_author` against trafilatura's `extract_author` on the same pages."""

    pages: int = 0
    found: int = 0
    differ: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    """(page, trafilatura's author, the project's) where they differ."""
    trafilatura_cpu: float = 0.0
    project_cpu: float = 0.0


def check_byline(pages: list[Page]) -> BylineCheck:
    """Both author searches on every page's parsed tree (CPU time of each, in seconds)."""
    from trafilatura.metadata import extract_author
    from trafilatura.utils import load_html

    from monitor.clean.byline import find_author

    check = BylineCheck()
    for page in pages:
        tree = load_html(page.html)
        if tree is None:
            continue
        start = time.process_time()
        theirs = extract_author(tree)
        middle = time.process_time()
        ours = find_author(tree)
        check.trafilatura_cpu += middle - start
        check.project_cpu += time.process_time() - middle
        check.pages += 1
        check.found += theirs is not None
        if ours != theirs:
            check.differ.append((page.name, theirs, ours))
    return check
