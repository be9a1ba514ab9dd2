"""Every corpus feed gives the same items parsed the fast way as parsed with its base URL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.feeds import ParsedFeed, parse_feed
from tests.corpora_needed import corpora_missing

from .conftest import corpora_dir

CORPORA = corpora_dir()
WHEN = datetime(2024, 1, 2, tzinfo=UTC)


def _files() -> list[Path]:
    if CORPORA is None:
        return []
    root = CORPORA / "feeds"
    files = sorted(p for p in root.rglob("*.xml") if p.is_file())
    if not os.environ.get("FEED_CORPORA_FULL"):
        # feedparser's 1,749 well-formed documents: every 5th by default, like the poll test.
        wellformed = [p for p in files if "feedparser/wellformed" in str(p)]
        files = [p for p in files if p not in set(wellformed)] + wellformed[::5]
    return files


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/feeds/feed.xml", "https://a.example/x/"])
def test_fast_parse_gives_the_items_of_a_parse_with_the_base(url: str) -> None:
    if CORPORA is None:
        corpora_missing("shared/corpora not found beside the repo")
    files = _files()
    assert len(files) > 400
    differ, fast_count = [], 0
    for path in files:
        body = path.read_bytes()
        fast = parse_feed(body, source="s", url=url, fetched=WHEN)
        forced = parse_feed(body, source="s", url=url, fetched=WHEN, with_base=True)
        if isinstance(fast, ParsedFeed) and isinstance(forced, ParsedFeed):
            fast_count += not fast.needed_base
            same = (fast.items, fast.title, fast.version, fast.ttl_s, fast.warning) == (
                forced.items, forced.title, forced.version, forced.ttl_s, forced.warning
            )  # fmt: skip
        else:
            same = fast == forced
        if not same:
            differ.append(str(path))
    assert differ == []
    assert fast_count > len(files) // 2  # most parse once, without the base
