"""Replay connector: seed formats, jsonl, and bad input as per-item rejections."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors.replay import ReplayConnector, guess_title, text_item
from monitor.model import Origin, RawItem, Rejected

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def read(*paths: Path) -> list[RawItem | Rejected]:
    return list(ReplayConnector(paths).items())


def test_seed_folder_gives_five_items_in_file_order() -> None:
    items = read(SEEDS)
    assert [i.input_id for i in items] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert all(isinstance(i, RawItem) for i in items)


def test_date_header_before_title_is_parsed() -> None:
    item = text_item("x.txt", " date 2024-10-17 Rutte: NATO has no evidence\nBody line.\n")
    assert item.published == datetime(2024, 10, 17, tzinfo=UTC)
    assert item.title == "Rutte: NATO has no evidence"
    assert not item.text or "date 2024" not in item.text


def test_title_skips_site_chrome() -> None:
    text = "close\nclose\n\nGuiltandivy\n\nSource for News\n\nUkraine says it fought troops\n"
    assert guess_title(text) == "Ukraine says it fought troops"


def test_seed_items_have_titles_and_dates() -> None:
    by_name = {i.input_id: i for i in read(SEEDS) if isinstance(i, RawItem)}
    assert by_name["004_19d451756c40f857.txt"].published == datetime(2024, 11, 5, tzinfo=UTC)
    assert by_name["000_f24eacb08e7624dc.txt"].published is None
    assert by_name["001_8bc150cff370669c.txt"].title is not None
    assert by_name["001_8bc150cff370669c.txt"].title.startswith("Defense chief confirms")


def test_bad_files_are_rejected_one_by_one_and_replay_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a_latin1.txt").write_bytes("Caf\xe9 au lait, a headline here\n".encode("latin-1"))
    (tmp_path / "b_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "c_empty.txt").write_bytes(b"")
    (tmp_path / "d_good.txt").write_text("A good headline for a story\nBody.\n", encoding="utf-8")
    (tmp_path / "e_blank.txt").write_text("   \n\n", encoding="utf-8")
    items = read(tmp_path)
    errors = {i.input_id: i.error for i in items if isinstance(i, Rejected)}
    assert "UTF-8" in errors["a_latin1.txt"]
    assert "binary" in errors["b_binary.txt"]
    assert "empty" in errors["c_empty.txt"]
    assert "whitespace" in errors["e_blank.txt"]
    assert [i.input_id for i in items if isinstance(i, RawItem)] == ["d_good.txt"]


def test_jsonl_lines_become_items_and_bad_lines_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(
        b'{"id": "a1", "url": "https://x.test/a", "title": "T", "text": "Body", '
        b'"published": "2024-11-05T10:00:00Z", "source": "Outlet"}\n'
        b"{not json\n"
        b"\n"
        b'{"id": "a3", "title": "Headline only"}\n'
        b'{"id": "a4", "title": " ", "text": ""}\n'
        b'["a list"]\n'
        b'{"id": 7, "html": "<p>hi</p>"}\n'
    )
    items = read(path)
    assert [type(i).__name__ for i in items] == [
        "RawItem",
        "Rejected",
        "RawItem",
        "Rejected",
        "Rejected",
        "RawItem",
    ]
    first = items[0]
    assert isinstance(first, RawItem)
    assert first.source == "Outlet"
    assert first.published == datetime(2024, 11, 5, 10, tzinfo=UTC)
    assert first.origin is Origin.ENTRY
    bad = items[1]
    assert isinstance(bad, Rejected)
    assert bad.input_id == "items.jsonl:2" and "malformed JSON" in bad.error
    headline = items[2]
    assert isinstance(headline, RawItem) and headline.input_id == "a3"
    assert headline.origin is Origin.ENTRY and headline.text is None
    empty = items[3]
    assert isinstance(empty, Rejected) and empty.input_id == "a4"
    assert empty.error == "line 5: none of 'title', 'text' or 'html' has content"
    untitled = items[5]
    assert isinstance(untitled, RawItem) and untitled.input_id == "7" and untitled.html
    assert untitled.origin is Origin.DOCUMENT


def test_missing_path_and_empty_folder_are_rejected(tmp_path: Path) -> None:
    items = read(tmp_path / "nope", tmp_path)
    assert [i.error for i in items if isinstance(i, Rejected)] == [
        "no such file or folder",
        "no .txt/.jsonl/.html/.htm files in folder",
    ]


def test_replay_delays_follow_publish_gaps_scaled_and_capped() -> None:
    from connectors.replay import replay_delays

    day = datetime(2024, 11, 1, tzinfo=UTC)
    items: list[RawItem | Rejected] = [
        RawItem("a", "s", text="x", published=day),
        RawItem("b", "s", text="x"),
        RawItem("c", "s", text="x", published=day.replace(day=2)),
        RawItem("d", "s", text="x", published=day.replace(day=30)),
    ]
    delays = [d for d, _ in replay_delays(items, speed=86_400, max_gap_s=5)]
    assert delays == [0.0, 0.0, 1.0, 5.0]
    assert [d for d, _ in replay_delays(items, speed=0, max_gap_s=5)] == [0.0] * 4
