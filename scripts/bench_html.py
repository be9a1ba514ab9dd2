"""The html row: pages/s and CPU per page of the clean stage beside bare trafilatura.

On the pages of the trafilatura development set in the corpora (bench_clean.html_pages),
else on generated pages. Imported by scripts/bench.py only when the row runs.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench_common import Report, proc_cpu, say
from bench_news import generated_pages

from monitor.config import load_settings
from monitor.model import RawItem

# --- HTML --------------------------------------------------------------------------------------


def bench_html(report: Report, corpora: Path, count: int) -> None:
    """Pages/s of the clean stage beside bare trafilatura on the same pages."""
    import trafilatura
    from bench_clean import html_pages

    from monitor.clean import Cleaner

    pages = html_pages(corpora, count)
    origin = "trafilatura development set"
    if not pages:
        origin = "generated pages (no corpora found)"
        pages = generated_pages(count)
    settings = load_settings()
    mb = sum(len(h) for _, h in pages) / 1e6
    say(f"html: {len(pages)} pages, {origin}, {mb:.1f} MB")
    with Cleaner.from_settings(settings.clean, settings.config_dir) as cleaner:
        cleaner.html.extract("<p>warm up</p>", None)  # process start is not a page's cost
        proc = cleaner.html._proc
        assert proc is not None and proc.pid is not None
        for url, html in pages[:3]:
            trafilatura.extract(html, url=url)
        ours, bare, ours_cpu, bare_cpu = [], [], [], []
        for rnd in range(4):  # alternate, best of four: the machine is shared
            cpu, start = time.process_time(), time.perf_counter()
            for url, html in pages:
                trafilatura.extract(html, url=url)
            bare.append(time.perf_counter() - start)
            bare_cpu.append(time.process_time() - cpu)
            cpu, child, start = time.process_time(), proc_cpu(proc.pid), time.perf_counter()
            for n, (url, html) in enumerate(pages):
                cleaner.clean(RawItem(input_id=f"{rnd}-{n}", source=f"s{n}", html=html, url=url))
            ours.append(time.perf_counter() - start)
            ours_cpu.append(time.process_time() - cpu + proc_cpu(proc.pid) - child)
        restarts = cleaner.html.restarts
    n = len(pages)
    o, b = n / min(ours), n / min(bare)
    report.add(
        f"HTML pages through the clean stage ({n} pages, {origin})",
        f"{o:.1f} pages/s",
        f"{b:.1f} pages/s (trafilatura.extract)",
        f"{o / b:.2f}x",
        ">= 0.8x",
        "yes" if o / b >= 0.8 else "NO",
    )
    oc, bc = min(ours_cpu) / n * 1000, min(bare_cpu) / n * 1000
    report.add(
        "HTML, CPU per page (worker + extraction process; less noisy than wall time)",
        f"{oc:.1f} ms",
        f"{bc:.1f} ms",
        f"{bc / oc:.2f}x",
        ">= 0.8x",
        "yes" if bc / oc >= 0.8 else "NO",
    )
    if restarts:
        report.notes.append(f"HTML: the extraction process was restarted {restarts} times.")
