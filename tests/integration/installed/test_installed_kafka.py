"""The installed `news-monitor` against the real broker: replay, `run --once` over a local site.

Messages are read back with the installed `news-monitor consume --json`. The feeds and
pages come from a real HTTP server on 127.0.0.1 (`site.NewsSite`), which the test
configs allow with `http.allow_private`, as docs/feeds.md requires.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.installed import site
from tests.integration.installed.dockerfile import ROOT
from tests.integration.installed.product import Installed

pytestmark = pytest.mark.kafka

SEEDS = ROOT / "seeds"
SEED_NAMES = {p.name for p in SEEDS.glob("*.txt")}


@pytest.fixture
def news_site() -> Iterator[site.NewsSite]:
    with site.NewsSite() as server:
        yield server


def write_config(workdir: Path, sources: str = "", filters: bool = True) -> Path:
    """A config with its own topic and state; `sources` is the YAML list body, if any."""
    topic = f"test.installed.{uuid.uuid4().hex[:8]}"
    cfg = workdir / "monitor.yaml"
    cfg.write_text(
        f"kafka: {{topic: {topic}, partitions: 1}}\n"
        f"state: {{path: {workdir / 'state' / 'monitor.db'}}}\n"
        "http: {allow_private: ['127.0.0.1'], per_host_delay_s: 0}\n"
        f"filters: {{enabled: {str(filters).lower()}}}\n"
        + (f"sources:\n{sources}" if sources else ""),
        encoding="utf-8",
    )
    return cfg


def source(name: str, url: str, fetch_pages: bool = False) -> str:
    return (
        f"  - name: {name}\n    url: {url}\n    interval_s: 60\n"
        f"    fetch_pages: {str(fetch_pages).lower()}\n"
    )


def consume(installed: Installed, cfg: Path, bootstrap: str, expect: int) -> list[dict[str, Any]]:
    """The config's topic read by the installed reference consumer: `expect` messages, or
    all there are if fewer come within its timeout."""
    done = installed.run(
        "consume",
        "--config",
        str(cfg),
        "--from-beginning",
        "--json",
        "--max",
        str(expect),
        "--timeout",
        "5",
        cwd=cfg.parent,
        env={"NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS": bootstrap},
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def run_once(installed: Installed, cfg: Path, bootstrap: str) -> Any:
    return installed.run(
        "run",
        "--once",
        "--config",
        str(cfg),
        cwd=cfg.parent,
        env={"NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS": bootstrap},
    )


def test_replay_seeds_into_kafka(installed: Installed, workdir: Path, kafka_bootstrap: str) -> None:
    cfg = write_config(workdir)
    done = installed.run(
        "replay",
        str(SEEDS),
        "--config",
        str(cfg),
        cwd=workdir,
        env={"NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap},
    )
    assert done.returncode == 0, done.stderr
    values = consume(installed, cfg, kafka_bootstrap, expect=5)
    assert {v["article"]["source"] for v in values} == SEED_NAMES
    created = [v for v in values if v["event"] == "story.created"]
    assert len(created) == 4  # 001 and 002 are one story (README)
    assert (workdir / "state" / "monitor.db").exists()


def test_run_once_fetches_the_article_pages(
    installed: Installed, workdir: Path, kafka_bootstrap: str, news_site: site.NewsSite
) -> None:
    news_site.pages["/feed.xml"] = (
        "application/rss+xml",
        site.rss(
            [
                site.item(f"page-{n}", site.TITLES[n], news_site.url(f"/news/{n}.html"), s)
                for n, s in site.SUMMARIES.items()
            ]
        ),
    )
    for n in site.PARAGRAPHS:
        news_site.pages[f"/news/{n}.html"] = ("text/html", site.article_page(n))
    cfg = write_config(
        workdir, source("daily", news_site.url("/feed.xml"), fetch_pages=True), filters=False
    )
    done = run_once(installed, cfg, kafka_bootstrap)
    assert done.returncode == 0, done.stderr
    assert {"/news/1.html", "/news/2.html"} <= set(news_site.requested)
    values = consume(installed, cfg, kafka_bootstrap, expect=len(site.PARAGRAPHS))
    by_url = {v["article"]["url"]: v["article"] for v in values}
    assert set(by_url) == {news_site.url(f"/news/{n}.html") for n in site.PARAGRAPHS}, done.stdout
    for n, paragraphs in site.PARAGRAPHS.items():
        article = by_url[news_site.url(f"/news/{n}.html")]
        assert article["title"] == site.TITLES[n]
        assert all(p in article["text"] for p in paragraphs), article["text"]
        assert site.FOOTER not in article["text"] and "newsletter" not in article["text"]


# Entries as feeds really write them: no summary at all, a one-line summary, markup and a
# double-escaped entity in titles, and a reddit-style summary (escaped HTML in the XML,
# entities escaped once more inside it).
ENTRIES = [
    ("headline", "Heavy snow closes mountain roads across Gangwon province", None),
    (
        "dollar",
        "Chip exports reach &amp;#x0024;12bn in November",
        "Semiconductor shipments rose for a ninth month.",
    ),
    (
        "sup",
        "Han river ferry marks its 100&lt;sup&gt;th&lt;/sup&gt; year",
        "The ferry first sailed in 1926.",
    ),
    (
        "reddit",
        "Which museums in Busan open late?",
        '&lt;!-- SC_OFF --&gt;&lt;div class="md"&gt;&lt;p&gt;Looking for a &amp;quot;late'
        " night&amp;quot; museum &amp;amp; gallery list for next week.&lt;/p&gt;&lt;/div&gt;"
        '&lt;!-- SC_ON --&gt; &amp;#32; submitted by &lt;a href="https://example.org/u/x"&gt;'
        " /u/x &lt;/a&gt;",
    ),
]
PLAIN_TITLES = {
    "headline": "Heavy snow closes mountain roads across Gangwon province",
    "dollar": "Chip exports reach $12bn in November",
    "sup": "Han river ferry marks its 100th year",
    "reddit": "Which museums in Busan open late?",
}
MARKUP = re.compile(r"<[a-z!/]|&(?:[a-z]+|#x?[0-9a-f]+);", re.I)


def test_run_once_publishes_headline_and_short_feed_items_with_plain_text(
    installed: Installed, workdir: Path, kafka_bootstrap: str, news_site: site.NewsSite
) -> None:
    news_site.pages["/feed.xml"] = (
        "application/rss+xml",
        site.rss([site.item(g, t, news_site.url(f"/e/{g}"), d) for g, t, d in ENTRIES]),
    )
    cfg = write_config(workdir, source("mixed", news_site.url("/feed.xml")), filters=False)
    done = run_once(installed, cfg, kafka_bootstrap)
    assert done.returncode == 0, done.stderr
    values = consume(installed, cfg, kafka_bootstrap, expect=len(ENTRIES))
    by_url = {v["article"]["url"]: v["article"] for v in values}
    assert set(by_url) == {news_site.url(f"/e/{g}") for g, _, _ in ENTRIES}, done.stdout
    for guid, title in PLAIN_TITLES.items():
        article = by_url[news_site.url(f"/e/{guid}")]
        assert article["title"] == title
        assert not MARKUP.search(article["text"]), article["text"]
    reddit = by_url[news_site.url("/e/reddit")]["text"]
    assert 'a "late night" museum & gallery list' in reddit
    assert "SC_OFF" not in reddit


def test_run_once_exits_1_when_every_source_failed(
    installed: Installed, workdir: Path, kafka_bootstrap: str, news_site: site.NewsSite
) -> None:
    cfg = write_config(
        workdir,
        source("gone", news_site.url("/gone.xml")) + source("also-gone", news_site.url("/x.xml")),
    )
    done = run_once(installed, cfg, kafka_bootstrap)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert {"/gone.xml", "/x.xml"} <= set(news_site.requested)
