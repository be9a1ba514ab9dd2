"""`render_inspection`: the stripped article, its metadata, every removed line and its rule."""

from __future__ import annotations

import json

from monitor.clean import Cleaner, RejectedArticle, render_inspection
from monitor.model import RawItem, Rejected
from tests.clean.conftest import SEEDS, seed_item


def test_text_view_lists_removed_lines_with_rules(cleaner: Cleaner) -> None:
    article = cleaner.clean(seed_item(SEEDS / "003_b1ac101bd35f63a9.txt"))
    out = render_inspection(article, as_json=False)
    assert "dateline   Kyiv • UNN" in out
    assert "--- removed (2) ---" in out
    assert "[dateline] Kyiv • UNN" in out
    assert "Sources also reported that 18 North Korean soldiers" in out


def test_json_view(cleaner: Cleaner) -> None:
    article = cleaner.clean(seed_item(SEEDS / "001_8bc150cff370669c.txt"))
    data = json.loads(render_inspection(article, as_json=True))
    assert data["status"] == "article"
    assert {"rule": "comment_form", "text": "LEAVE A REPLY"} in data["removed"]
    assert data["title"].startswith("Defense chief confirms")
    assert data["clean"]["path"] == "text"


def test_rejected_views() -> None:
    rejected = Rejected(input_id="x.txt", source="replay", error="too little text")
    assert render_inspection(rejected, as_json=False) == (
        "REJECTED x.txt (replay): too little text"
    )
    assert json.loads(render_inspection(rejected, as_json=True)) == {
        "status": "rejected",
        "input_id": "x.txt",
        "source": "replay",
        "error": "too little text",
    }


def test_rejected_for_too_little_text_shows_what_was_removed(cleaner: Cleaner) -> None:
    raw = RawItem(
        input_id="thin.txt",
        source="replay",
        text="close\nShort headline about troops\nLEAVE A REPLY\nOnly a line of text.",
    )
    result = cleaner.clean(raw)
    assert isinstance(result, RejectedArticle)
    out = render_inspection(result, as_json=False)
    assert out.startswith("REJECTED thin.txt (replay): too little text after cleaning: 20 ")
    assert "[comment_form] LEAVE A REPLY" in out
    data = json.loads(render_inspection(result, as_json=True))
    assert data["text"] == "Only a line of text."
    assert {"rule": "site_chrome", "text": "close"} in data["removed"]
