"""Benchmark dedup: per-item cost and memory per indexed story at 10k/100k/1M stories.

The window is filled in bulk with synthetic stories of the same shape `assign()`
stores (profile of `profile_terms` terms, postings, identity keys, MinHash bands,
source line), drawn from a Zipf vocabulary; then synthetic articles from the same
vocabulary go through the real `identity()` + `assign()` path and are timed.

    python scripts/bench_dedup.py [--sizes 10000,100000,1000000] [--probes 300]
    python scripts/bench_dedup.py --minhash   # rensa against datasketch
"""

from __future__ import annotations

import argparse
import array
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.config import DedupSettings  # noqa: E402
from monitor.dedup import Deduplicator  # noqa: E402
from monitor.dedup.features import term_id  # noqa: E402
from monitor.dedup.near import band_keys  # noqa: E402
from monitor.model import Article  # noqa: E402

VOCAB = 300_000
T0 = datetime(2024, 11, 6, tzinfo=UTC)


def rss_mb() -> float:
    """Peak resident memory of this process, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    k = settings.profile_terms
    base = T0.timestamp() - 3600
    con.execute("BEGIN")
    chunk = 20_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        terms = zipf_ids(rng, m * k).reshape(m, k)
        weights = rng.random((m, k)).astype(np.float32)
        sigs = rng.integers(0, 2**32, (m, settings.near_num_perm), dtype=np.uint32)
        stories, postings, items, bands, idents = [], [], [], [], []
        for j in range(m):
            sid = f"s{start + j:015d}"
            row_ids = ids[terms[j]]
            order = np.argsort(-weights[j])
            tids = array.array("q", row_ids[order].tolist())
            ws = array.array("f", weights[j][order].tolist())
            skey = start + j + 1
            t = base + (start + j) * 1e-3
            stories.append((skey, sid, t, 1, tids.tobytes(), ws.tobytes(), b""))
            postings.extend((int(x), skey) for x in dict.fromkeys(tids[: settings.index_terms]))
            sig = tuple(int(x) for x in sigs[j])
            items.append(
                (
                    skey,
                    sid,
                    skey,
                    t,
                    "outlet",
                    f"https://x.example/{sid}",
                    "title",
                    t,
                    t,
                    array.array("I", sig).tobytes(),
                )
            )
            bands.extend((b, skey) for b in band_keys(sig, settings.near_threshold))
            idents.extend((term_id(f"{kind}:{sid}"), kind, sid, sid, t) for kind in ("url", "text"))
        con.executemany("INSERT INTO dedup_story VALUES (?,?,?,?,?,?,?)", stories)
        con.executemany("INSERT OR IGNORE INTO dedup_posting VALUES (?,?)", postings)
        con.executemany("INSERT INTO dedup_item VALUES (?,?,?,?,?,?,?,?,?,?)", items)
        con.executemany("INSERT OR IGNORE INTO dedup_band VALUES (?,?)", bands)
        con.executemany("INSERT OR IGNORE INTO dedup_identity VALUES (?,?,?,?,?)", idents)
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


def bench_size(n: int, probes: int, settings: DedupSettings) -> None:
    """Fill the window with `n` stories and time `probes` articles through dedup."""
    rng = np.random.default_rng(7)
    # The vocabulary's term ids, as features.py hashes "w:<stem>" (stems are 7 letters).
    ids = np.array([term_id("w:" + f"w{r}"[:7]) for r in range(VOCAB)], dtype=np.int64)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        db = Path(tmp) / "state.db"
        start = time.perf_counter()
        fill(db, n, settings, ids, rng)
        fill_s = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        arts = probe_articles(rng, probes)
        rss0 = rss_mb()
        dedup = Deduplicator.open(settings, db)
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
        print(
            f"{n:>9,} stories | fill {fill_s:6.1f}s | per item {per_cpu:5.2f} ms CPU "
            f"({per_item:5.2f} ms wall) | "
            f"disk {size / n:6.0f} B/story | peak RSS {rss_mb():6.0f} MiB "
            f"(+{rss_mb() - rss0:.0f} while probing)",
            flush=True,
        )


def bench_minhash() -> None:
    """Compare rensa and datasketch: signature time and Jaccard estimate error."""
    from datasketch import MinHash
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
    args = ap.parse_args()
    if args.minhash:
        bench_minhash()
        return
    settings = DedupSettings()
    print(
        f"settings: profile_terms={settings.profile_terms} index_terms={settings.index_terms} "
        f"num_perm={settings.near_num_perm}; {os.cpu_count()} cores"
    )
    for n in (int(x) for x in args.sizes.split(",")):
        bench_size(n, args.probes, settings)


if __name__ == "__main__":
    main()
