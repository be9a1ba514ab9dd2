"""Items from small self-written feeds (feeds_written/) stay exactly what they were.

`expected.json` holds what `parse_feed` made of each file, at two feed URLs and three
Content-Types (none among them), before the first-poll speed-up (parsing without the base
URL when that is safe). Any change to an item, its order, or the feed's metadata fails
here. Rewrite the file only for an intended change:
`python -m tests.connectors.test_feeds_written --write`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.feeds import parse_feed
from monitor.model import RawItem, Rejected

HERE = Path(__file__).parent / "feeds_written"
EXPECTED = HERE / "expected.json"
URLS = ("http://127.0.0.1:8080/feeds/feed.xml", "https://www.example.org/a/b/feed?x=1")
CONTENT_TYPES = ("application/xml", "", "text/html; charset=iso-8859-1")
FETCHED = datetime(2024, 1, 2, tzinfo=UTC)


def _item(out: RawItem | Rejected) -> dict[str, Any]:
    if isinstance(out, Rejected):
        return {"rejected": out.error, "input_id": out.input_id}
    return {
        "input_id": out.input_id,
        "text": out.text,
        "html": out.html,
        "title": out.title,
        "url": out.url,
        "guid": out.guid,
        "published": out.published.isoformat() if out.published else None,
        "meta": out.meta,
        "origin": out.origin.value,
    }


def snapshot(path: Path, url: str, content_type: str) -> dict[str, Any]:
    """What parse_feed makes of one file at `url`, as plain JSON values."""
    parsed = parse_feed(
        path.read_bytes(), source=path.stem, url=url, content_type=content_type,
        fetched=FETCHED,
    )  # fmt: skip
    if isinstance(parsed, Rejected):
        return {"rejected": parsed.error}
    return {
        "title": parsed.title,
        "version": parsed.version,
        "ttl_s": parsed.ttl_s,
        "warning": parsed.warning,
        "items": [_item(i) for i in parsed.items],
    }


def all_snapshots() -> dict[str, dict[str, Any]]:
    """Every file at every URL with every Content-Type, keyed "<file>|<url>|<type>"."""
    return {
        f"{p.name}|{url}|{ctype}": snapshot(p, url, ctype)
        for p in sorted(HERE.glob("*.xml"))
        for url in URLS
        for ctype in CONTENT_TYPES
    }


CASES = sorted(json.loads(EXPECTED.read_text(encoding="utf-8")).items())


def test_every_written_feed_is_covered() -> None:
    assert {k for k, _ in CASES} == set(all_snapshots())


@pytest.mark.parametrize(("case", "expected"), CASES, ids=[k for k, _ in CASES])
def test_items_are_unchanged(case: str, expected: dict[str, Any]) -> None:
    name, url, ctype = case.split("|")
    assert snapshot(HERE / name, url, ctype) == expected


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    EXPECTED.write_text(json.dumps(all_snapshots(), indent=1, sort_keys=True) + "\n")
