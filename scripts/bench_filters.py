"""Benchmark: relevance matching time per article as the gazetteer grows (10 to 100,000 aliases).

Run by hand: `python scripts/bench_filters.py [--sizes 10 1000 100000] [--repeat 20]`.
Articles are the five seeds in `seeds/`; the default rules are used, and the
gazetteer is the default one plus synthetic entities (10 aliases each, in
Latin and Cyrillic, one to three words) up to the requested alias count.
Prints build time, mean time per article (normalise + scan + rules) and the
peak RSS, so the growth with the number of aliases can be read at a glance.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import Report, rss_mib  # noqa: E402

from monitor.config import load_settings  # noqa: E402
from monitor.filters import Gazetteer, RelevanceFilter  # noqa: E402
from monitor.filters.rules import RuleCompiler  # noqa: E402
from monitor.model import Article  # noqa: E402

LATIN = "abcdefghijklmnopqrstuvwxyz"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщьюяєії"


def synthetic_entities(count: int, seed: int = 7) -> list[dict[str, object]]:
    """`count` random aliases, 10 per entity, half Latin and half Cyrillic."""
    rng = random.Random(seed)
    entities: list[dict[str, object]] = []
    for start in range(0, count, 10):
        aliases = []
        for j in range(min(10, count - start)):
            letters = LATIN if j % 2 == 0 else CYRILLIC
            words = [
                "".join(rng.choice(letters) for _ in range(rng.randint(4, 10)))
                for _ in range(rng.randint(1, 3))
            ]
            aliases.append(" ".join(words).title())
        entities.append(
            {"id": f"syn-{start}", "name": aliases[0], "type": "synthetic", "aliases": aliases[1:]}
        )
    return entities


BENCH_RULE = "entity:north-korea AND (troop* OR soldier*) AND NOT (football OR soccer)"


def build(alias_count: int) -> tuple[RelevanceFilter, int]:
    """North Korea's real aliases plus synthetic ones, `alias_count` in all, and one rule."""
    settings = load_settings(ROOT / "config" / "monitor.yaml")
    assert settings.filters.gazetteer is not None
    base = Gazetteer.load(settings.resolve(settings.filters.gazetteer))
    north = base.entities[base.find("north-korea") or 0]
    forms = list(north.forms[:alias_count])
    real: dict[str, object] = {"id": north.id, "name": forms[0], "type": north.type}
    real.update(key=north.key, aliases=forms[1:])
    extra = synthetic_entities(max(0, alias_count - len(forms)))
    gazetteer = Gazetteer.from_entries({"entities": [real, *extra]}, "synthetic")
    compiler = RuleCompiler(gazetteer)
    rules = [compiler.compile("bench", BENCH_RULE)]
    total = sum(len(e.forms) for e in gazetteer.entities)
    return RelevanceFilter(gazetteer, rules, compiler.patterns), total


def default_filter() -> tuple[RelevanceFilter, int]:
    """The shipped config: default gazetteer and rules."""
    path = ROOT / "config" / "monitor.yaml"
    settings = load_settings(path)
    relevance = RelevanceFilter.from_settings(settings.filters, settings.config_dir, str(path))
    return relevance, sum(len(e.forms) for e in relevance.gazetteer.entities)


def measure(
    label: str,
    relevance: RelevanceFilter,
    total: int,
    built: float,
    articles: list[Article],
    repeat: int,
) -> None:
    """Time `evaluate` over the articles and print one row."""
    times: list[float] = []
    for _ in range(repeat):
        for article in articles:
            t = time.perf_counter()
            verdict = relevance.evaluate(article)
            times.append((time.perf_counter() - t) * 1000)
            assert verdict.relevant, verdict.reason
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mean = statistics.mean(times)
    print(f"{label:<16} {total:>9,} {built:>8.2f} {mean:>11.3f} {p95:>8.3f} {rss:>12.0f}")


def main() -> int:
    """Print per-article matching time for each gazetteer size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1_000, 100_000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    articles = [
        Article(
            item_id=p.stem, input_id=p.name, source="bench", title="", text=p.read_text("utf-8")
        )
        for p in seeds
    ]
    chars = statistics.mean(len(a.text) for a in articles)
    print(f"{len(articles)} seed articles, mean {chars:,.0f} chars; {args.repeat} repeats each")
    print(
        f"{'gazetteer':<16} {'aliases':>9} {'build s':>8} {'ms/article':>11} {'p95 ms':>8} "
        f"{'peak RSS MB':>12}"
    )
    t0 = time.perf_counter()
    relevance, total = default_filter()
    measure("default config", relevance, total, time.perf_counter() - t0, articles, args.repeat)
    for size in args.sizes:
        t0 = time.perf_counter()
        relevance, total = build(size)
        measure("synthetic", relevance, total, time.perf_counter() - t0, articles, args.repeat)
    return 0


def bench_filters(report: Report, sizes: list[int], repeat: int) -> None:
    """Relevance filter time per article with synthetic gazetteers of each alias count."""
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    articles = [
        Article(item_id=p.stem, input_id=p.name, source="bench", title="", text=p.read_text())
        for p in seeds
    ]
    chars = statistics.mean(len(a.text) for a in articles)

    def run(relevance: Any) -> float:
        times = []
        for _ in range(repeat):
            for a in articles:
                t = time.perf_counter()
                relevance.evaluate(a)
                times.append(time.perf_counter() - t)
        return statistics.mean(times) * 1000

    # Bare: pyahocorasick (the automaton the gazetteer is built on) over the same aliases,
    # lower-cased, scanning the lower-cased text; no word boundaries, scopes or rules.
    import ahocorasick

    for size in sizes:
        t0 = time.perf_counter()
        before = rss_mib()
        relevance, total = build(size)
        built = time.perf_counter() - t0
        grown = rss_mib() - before
        ms = run(relevance)
        forms = [f for e in relevance.gazetteer.entities for f in e.forms]
        del relevance
        gc.collect()
        t0 = time.perf_counter()
        automaton: Any = ahocorasick.Automaton()
        for n, form in enumerate(forms):
            automaton.add_word(form.lower(), n)
        automaton.make_automaton()
        bare_built = time.perf_counter() - t0
        texts = [a.text.lower() for a in articles]
        times = []
        for _ in range(repeat):
            for text in texts:
                t = time.perf_counter()
                sum(1 for _ in automaton.iter(text))
                times.append(time.perf_counter() - t)
        bare_ms = statistics.mean(times) * 1000
        report.add(
            f"filters (all rules, entities, scopes), {total:,} aliases",
            f"{ms:.3f} ms/article ({chars:,.0f} chars); build {built:.2f} s, +{grown:.0f} MiB",
            f"{bare_ms:.3f} ms/article; build {bare_built:.2f} s (pyahocorasick scan only)",
            f"{bare_ms / ms:.2f}x",
        )
        del automaton
        gc.collect()


if __name__ == "__main__":
    raise SystemExit(main())
