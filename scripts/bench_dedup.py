"""Benchmark dedup: per-item cost and memory per indexed story at 10k/100k/1M stories.

The window is filled in bulk with synthetic stories of the same shape `assign()`
stores (a profile of `PROFILE_TERMS` terms, title stems, identity keys, MinHash
bands, source line), drawn from a Zipf vocabulary. A fresh process opens the state
(rebuilding the in-memory index: its heap growth per story is the memory figure),
then synthetic articles from the same vocabulary go through the real `identity()`
+ `assign()` path and are timed, and so is story assignment alone (candidates from
the index, pair features, the model) on the same articles.

    python scripts/bench_dedup.py [--sizes 10000,100000,1000000] [--probes 300]
    python scripts/bench_dedup.py --minhash   # rensa against datasketch
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import Report, say  # noqa: E402

from monitor.config import DedupSettings  # noqa: E402
from monitor.dedup import NEAR_NUM_PERM, Deduplicator  # noqa: E402
from monitor.dedup.features import extract, term_id  # noqa: E402
from monitor.dedup.near import band_layout  # noqa: E402
from monitor.dedup.store import SqliteStore  # noqa: E402
from monitor.dedup.vectors import PROFILE_TERMS, weigh  # noqa: E402
from monitor.model import Article  # noqa: E402

VOCAB = 300_000
T0 = datetime(2024, 11, 6, tzinfo=UTC)


def rss_mb() -> float:
    """Peak resident memory of this process, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_parts() -> tuple[float, float]:
    """Resident memory now, MiB: (anonymous = the heap, file-backed = mapped SQLite pages)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("RssAnon", 0.0), fields.get("RssFile", 0.0)


def probe(db: Path, n: int, probes: int) -> None:
    """Time `probes` articles through identity() + assign() on a filled state (child process).

    Run in a fresh process so its memory is what a worker with this index holds,
    not what the bulk fill left behind.
    """
    settings = DedupSettings()
    rng = np.random.default_rng(11)
    arts = probe_articles(rng, probes)
    before, _ = rss_parts()
    start = time.perf_counter()
    # Opening the store reads the document frequencies into memory (bounded by their
    # term count, not by the stories); the deduplicator then rebuilds the story index.
    store = SqliteStore(db)
    df_mb = rss_parts()[0] - before
    dedup = Deduplicator(settings, store)
    load_s = time.perf_counter() - start
    index_mb = rss_parts()[0] - before - df_mb
    # Story assignment alone: candidates, pair features and the model (no writes).
    vecs = []
    for a in arts:
        feats = extract(a.title, a.text)
        tids = list(map(term_id, feats.terms))
        n_docs, df = dedup.store.doc_freqs(tids)
        vecs.append((weigh(feats, df, n_docs, tids), a.event_time.timestamp()))
    cpu = time.process_time()
    for vec, when in vecs:
        dedup.clusterer.decide(vec, when, True)
    decide_ms = (time.process_time() - cpu) / len(vecs) * 1000
    for a in arts[:20]:  # warm the page cache a little, as a running worker has
        dedup.identity(a)
        dedup.assign(a)
    start, cpu = time.perf_counter(), time.process_time()
    for a in arts[20:]:
        dedup.identity(a)
        dedup.assign(a)
    # CPU time is the figure to compare: the 2 cores are shared with other work.
    per_item = (time.perf_counter() - start) / (len(arts) - 20) * 1000
    per_cpu = (time.process_time() - cpu) / (len(arts) - 20) * 1000
    dedup.close()
    anon, mapped = rss_parts()
    print(
        f"{load_s:.2f} {index_mb:.2f} {decide_ms:.3f} {per_cpu:.3f} {per_item:.3f} "
        f"{anon:.1f} {mapped:.1f} {df_mb:.2f}"
    )


def zipf_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw vocabulary ranks with a Zipf-like law (rank 0 most common)."""
    return np.minimum(rng.zipf(1.3, n) - 1, VOCAB - 1)


def fill(
    db: Path, n: int, settings: DedupSettings, ids: np.ndarray, rng: np.random.Generator
) -> None:
    """Bulk-load `n` one-item stories into a fresh dedup state."""
    dedup = Deduplicator.open(settings, db)  # creates the schema
    dedup.close()
    import sqlite3

    con = sqlite3.connect(str(db), isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    k = PROFILE_TERMS
    base = T0.timestamp() - 3600
    con.execute("BEGIN")
    chunk = 50_000
    bands_n, _ = band_layout(settings.near_threshold, NEAR_NUM_PERM)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        # Profiles: vocabulary term ids, weights sorted high to low (as stored).
        terms = ids[zipf_ids(rng, m * k).reshape(m, k)]
        weights = -np.sort(-rng.random((m, k)).astype(np.float32), axis=1)
        sigs = rng.integers(0, 2**32, (m, NEAR_NUM_PERM), dtype=np.int64).astype(np.uint32)
        skeys = np.arange(start + 1, start + m + 1)
        times = base + skeys * 1e-3
        sids = [f"s{x:015d}" for x in skeys.tolist()]
        titles = ids[zipf_ids(rng, m * 8).reshape(m, 8)]
        con.executemany(
            "INSERT INTO dedup_story (story, story_id, last_t, size, terms, weights, title, "
            "keep_t, first_t, dated) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    int(skeys[j]),
                    sids[j],
                    float(times[j]),
                    1,
                    terms[j].tobytes(),
                    weights[j].tobytes(),
                    titles[j].tobytes(),
                    float(times[j]),
                    float(times[j]),
                    1,
                )
                for j in range(m)
            ],
        )
        # Bands and identity keys: the same number of rows of the same types as
        # assign() writes; their values only need to be spread like hashes.
        con.executemany(
            "INSERT INTO dedup_item (item, item_id, story, t, outlet, url, title, published, "
            "fetched, sig) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    int(skeys[j]),
                    sids[j],
                    int(skeys[j]),
                    float(times[j]),
                    "outlet",
                    f"https://x.example/{sids[j]}",
                    "title",
                    float(times[j]),
                    float(times[j]),
                    sigs[j].tobytes(),
                )
                for j in range(m)
            ],
        )
        band = np.stack(
            [
                rng.integers(-(2**63), 2**63 - 1, m * bands_n, dtype=np.int64),
                np.repeat(skeys, bands_n),
            ],
            axis=1,
        )
        band = band[np.argsort(band[:, 0])]
        con.executemany("INSERT OR IGNORE INTO dedup_band VALUES (?,?)", band.tolist())
        keys = rng.integers(-(2**63), 2**63 - 1, (m, 2), dtype=np.int64)
        con.executemany(
            "INSERT OR IGNORE INTO dedup_identity VALUES (?,?,?,?,?)",
            [
                (int(keys[j, c]), kind, sids[j], sids[j], float(times[j]))
                for j in range(m)
                for c, kind in enumerate(("url", "text"))
            ],
        )
    # Document frequencies as a Zipf stream of n documents would give them.
    ranks = np.arange(VOCAB)
    df = np.maximum((n * 0.5 / (ranks + 1) ** 0.9).astype(np.int64), 1)
    con.executemany(
        "INSERT OR REPLACE INTO dedup_df VALUES (?,?,?)",
        [(int(ids[r]), int(df[r]), base) for r in range(VOCAB)],
    )
    con.execute("INSERT OR REPLACE INTO dedup_meta VALUES ('n_docs', ?)", (n,))
    con.execute("INSERT OR REPLACE INTO dedup_meta VALUES ('clock', ?)", (base + n * 1e-3,))
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def probe_articles(rng: np.random.Generator, count: int) -> list[Article]:
    """Synthetic articles (300 words, a few names and numbers) from the same vocabulary."""
    out = []
    for i in range(count):
        words = [f"w{r}" for r in zipf_ids(rng, 300)]
        names = [f"Name{r}" for r in zipf_ids(rng, 6)]
        text = " ".join(words[:150]) + " " + " and ".join(names) + " said " + " ".join(words[150:])
        text += f" about {int(rng.integers(10, 99999)):,} people."
        when = T0 + timedelta(seconds=i)
        out.append(
            Article(
                item_id=f"probe{i}",
                input_id=f"p{i}",
                source="bench",
                title=" ".join(words[:8]),
                text=text,
                url=f"https://bench.example/{i}",
                published=when,
                fetched=when,
            )
        )
    return out


@dataclass(frozen=True)
class SizeFigures:
    """What `bench_size` measured for one index size."""

    stories: int
    fill_s: float
    load_s: float
    index_mb: float
    """Heap growth of the worker's in-memory story index, MiB."""
    decide_ms: float
    """Story assignment alone (candidates, pair features, model), ms CPU per item."""
    per_cpu: float
    """identity() + assign(), ms CPU per item."""
    per_item: float
    """identity() + assign(), ms wall per item."""
    rss: float
    mapped: float
    disk: int
    """Bytes of the state files."""
    df_mb: float
    """Heap growth of the document frequencies read into memory, MiB (bounded by their
    term count: `docfreq.py`)."""


def bench_size(n: int, probes: int, settings: DedupSettings, base_rss: float = 0.0) -> SizeFigures:
    """Fill the window with `n` stories, time `probes` articles through dedup, print a line."""
    rng = np.random.default_rng(7)
    # The vocabulary's term ids, as features.py hashes "w:<stem>" (stems are 7 letters).
    ids = np.array([term_id("w:" + f"w{r}"[:7]) for r in range(VOCAB)], dtype=np.int64)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        db = Path(tmp) / "state.db"
        start = time.perf_counter()
        fill(db, n, settings, ids, rng)
        fill_s = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        out = subprocess.run(
            [sys.executable, __file__, "--probe", str(db), "--probes", str(probes)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        load_s, index_mb, decide_ms, per_cpu, per_item, rss, mapped, df_mb = (
            float(x) for x in out[-8:]
        )
        figures = SizeFigures(
            n, fill_s, load_s, index_mb, decide_ms, per_cpu, per_item, rss, mapped, size, df_mb
        )
        if n == 0:
            print(
                f"  baseline: assignment {decide_ms:5.3f} ms CPU, identity+assign {per_cpu:5.2f}"
                f" ms CPU, worker RSS {rss:.0f} MiB heap + {mapped:.0f} MiB mapped"
            )
            return figures
        print(
            f"{n:>9,} stories | fill {fill_s:6.1f}s | load {load_s:5.1f}s, index "
            f"{index_mb * 2**20 / n:5.0f} B/story in memory (+{df_mb:.0f} MiB document "
            f"frequencies) | story assignment "
            f"{decide_ms:5.3f} ms CPU | identity+assign {per_cpu:5.2f} ms CPU "
            f"({per_item:5.2f} ms wall) | disk {size / n:5.0f} B/story | "
            f"RSS {rss:4.0f} MiB heap + {mapped:4.0f} MiB mapped",
            flush=True,
        )
        return figures


def bench_minhash() -> None:
    """Compare rensa and datasketch: signature time and Jaccard estimate error."""
    try:
        from datasketch import MinHash  # not a dependency of the package: compared only here
    except ImportError:
        raise SystemExit(
            "bench_dedup.py --minhash compares with datasketch: pip install datasketch"
        ) from None
    from rensa import RMinHash

    from monitor.dedup.features import shingles

    rng = np.random.default_rng(3)
    docs = [" ".join(f"w{r}" for r in zipf_ids(rng, 400)) for _ in range(300)]
    pairs = []
    for d in docs[:100]:
        words = d.split()
        cut = int(rng.integers(40, 360))
        pairs.append((d, " ".join(words[:cut] + [f"x{i}" for i in range(60)] + words[cut:])))
    for perm in (64, 128):
        grams = [sorted(shingles(d, 5)) for d in docs]
        t = time.perf_counter()
        for g in grams:
            m = RMinHash(num_perm=perm, seed=1)
            m.update(g)
            m.digest()
        rensa_ms = (time.perf_counter() - t) / len(grams) * 1000
        t = time.perf_counter()
        for g in grams:
            dm = MinHash(num_perm=perm, seed=1)
            dm.update_batch([s.encode() for s in g])
            dm.digest()
        ds_ms = (time.perf_counter() - t) / len(grams) * 1000
        err_r, err_d = [], []
        for a, b in pairs:
            sa, sb = shingles(a, 5), shingles(b, 5)
            true = len(sa & sb) / len(sa | sb)
            ra, rb = RMinHash(num_perm=perm, seed=1), RMinHash(num_perm=perm, seed=1)
            ra.update(sorted(sa))
            rb.update(sorted(sb))
            err_r.append(abs(ra.jaccard(rb) - true))
            da, db_ = MinHash(num_perm=perm, seed=1), MinHash(num_perm=perm, seed=1)
            da.update_batch([s.encode() for s in sa])
            db_.update_batch([s.encode() for s in sb])
            err_d.append(abs(da.jaccard(db_) - true))
        print(
            f"num_perm {perm:>3}: rensa {rensa_ms:.3f} ms/doc, mean |error| {np.mean(err_r):.3f}"
            f" | datasketch {ds_ms:.3f} ms/doc, mean |error| {np.mean(err_d):.3f}"
        )


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--minhash", action="store_true", help="compare rensa and datasketch only")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        probe(Path(args.probe), 0, args.probes)
        return
    if args.minhash:
        bench_minhash()
        return
    settings = DedupSettings()
    print(
        f"profile terms {PROFILE_TERMS}, window {settings.window_hours:g} h, "
        f"num_perm {NEAR_NUM_PERM}; {os.cpu_count()} cores"
    )
    base = bench_size(0, args.probes, settings).rss  # the baseline: imports, caches
    for n in (int(x) for x in args.sizes.split(",")):
        bench_size(n, args.probes, settings, base)


def bench_dedup(report: Report, sizes: list[int], probes: int) -> None:
    """Per-item dedup cost and worker memory at each index size (scripts/bench.py's rows)."""
    settings = DedupSettings()
    with contextlib.redirect_stdout(sys.stderr):  # bench_size's lines are progress here
        base = bench_size(0, probes, settings).rss
    for n in sizes:
        say(f"dedup: filling {n:,} stories ...")
        with contextlib.redirect_stdout(sys.stderr):
            f = bench_size(n, probes, settings, base)
        report.add(
            f"dedup identity+assign, {n:,} stories indexed",
            f"{f.per_cpu:.2f} ms CPU/item ({f.per_item:.2f} ms wall); story assignment"
            f" {f.decide_ms:.3f} ms CPU; RSS {f.rss:.0f}+{f.mapped:.0f} MiB"
            f" (+{f.index_mb * 2**20 / n:.0f} B/story, +{f.df_mb:.0f} MiB document"
            " frequencies)",
        )
        report.notes.append(f"dedup {n:,}: bulk fill took {f.fill_s:.1f} s (not in the figure).")


if __name__ == "__main__":
    main()
