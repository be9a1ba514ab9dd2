"""Replay input handling: encodings, the size cap, and publish dates that are not dates."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.encoding import bomless_utf16, decode_text
from connectors.replay import ReplayConnector, jsonl_item, published_date, text_item
from monitor.model import RawItem, Rejected

DUMP = "Київ: a headline with Cyrillic and é\nThe body of the dump, one line.\n"
NOW = datetime(2024, 11, 5, 12, tzinfo=UTC)


def read(*paths: Path, max_bytes: int = 8_000_000) -> list[RawItem | Rejected]:
    return list(ReplayConnector(paths, max_bytes=max_bytes).items())


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF16_LE + DUMP.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + DUMP.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + DUMP.encode("utf-32-le"),
        codecs.BOM_UTF8 + DUMP.encode("utf-8"),
        DUMP.encode("utf-16-le"),  # no BOM
        DUMP.encode("utf-16-be"),
    ],
    ids=["utf16le-bom", "utf16be-bom", "utf32-bom", "utf8-bom", "utf16le", "utf16be"],
)
def test_unicode_text_files_are_read_not_called_binary(tmp_path: Path, encoded: bytes) -> None:
    path = tmp_path / "dump.txt"
    path.write_bytes(encoded)
    (item,) = read(path)
    assert isinstance(item, RawItem), item
    assert item.text == DUMP
    assert item.title == "Київ: a headline with Cyrillic and é"


def test_binary_and_non_utf8_text_files_are_still_rejected_clearly(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01")
    (tmp_path / "b.txt").write_bytes("Café au lait, a headline\n".encode("latin-1"))
    errors = {i.input_id: i.error for i in read(tmp_path) if isinstance(i, Rejected)}
    assert errors == {
        "a.txt": "binary file (NUL bytes, and not UTF-16 or UTF-32): not a text dump",
        "b.txt": "not valid UTF-8 at byte 3: re-save the file as UTF-8",
    }
    assert bomless_utf16(bytes(range(256)) * 4) is None
    small_ints = b"".join(n.to_bytes(2, "little") for n in range(200))
    assert bomless_utf16(small_ints) is None


def test_bomless_utf16_cyrillic_prose_is_recognised() -> None:
    prose = "Війська КНДР помічені біля Курська, заявив міністр оборони. " * 20
    assert bomless_utf16(prose.encode("utf-16-le")[:4096]) == "utf-16-le"
    assert decode_text(prose.encode("utf-16-be")) == (prose, "utf-16-be")


def test_html_file_in_its_declared_charset_is_decoded() -> None:
    page = '<html><head><meta charset="windows-1251"></head><body>Київ</body></html>'
    text, encoding = decode_text(page.encode("cp1251"), html=True)
    assert "Київ" in text and encoding == "cp1251"


def test_latin1_jsonl_lines_are_rejected_one_by_one_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(
        b'{"id": "a", "title": "Plain ASCII line"}\n'
        + '{"id": "b", "title": "Caf\u00e9 line"}\n'.encode("latin-1")
        + b'{"id": "c", "title": "Another ASCII line"}\n'
    )
    items = read(path)
    assert [type(i).__name__ for i in items] == ["RawItem", "Rejected", "RawItem"]
    bad = items[1]
    assert isinstance(bad, Rejected) and bad.input_id == "items.jsonl:2"
    assert bad.error == (
        "line 2: not valid UTF-8 (byte 0xe9 at character 26): re-save the file as UTF-8"
    )
    assert "surrogates" not in bad.error


def test_a_binary_jsonl_file_is_one_rejection_not_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl"
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\n\x00\x03" * 50)
    assert [(i.input_id, getattr(i, "error", None)) for i in read(path)] == [
        ("dump.jsonl", "binary file (NUL bytes, and not UTF-16 or UTF-32): not JSON lines")
    ]


def test_utf16_jsonl_is_read(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    lines = '{"id": "a", "title": "Київ"}\n{"id": "b", "title": "Kyiv"}\n'
    path.write_bytes(codecs.BOM_UTF16_LE + lines.encode("utf-16-le"))
    titles = [i.title for i in read(path) if isinstance(i, RawItem)]
    assert titles == ["Київ", "Kyiv"]


def test_a_file_over_the_cap_names_the_setting_and_its_value(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("A headline of a few words\n" + "x" * 2_000, encoding="utf-8")
    (rejected,) = read(path, max_bytes=1_000)
    assert isinstance(rejected, Rejected)
    assert rejected.error == (
        "file is 2,026 bytes, over clean.max_input_bytes 1,000: raise clean.max_input_bytes "
        "in the config file (or NEWS_MONITOR_CLEAN__MAX_INPUT_BYTES) to replay it"
    )


def test_jsonl_is_streamed_and_only_an_overlong_line_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    long_line = b'{"id": "long", "text": "' + b"y" * 3_000 + b'"}\n'
    path.write_bytes(long_line + b'{"id": "ok", "title": "Short"}\n' + long_line)
    items = read(path, max_bytes=1_000)
    assert [type(i).__name__ for i in items] == ["Rejected", "RawItem", "Rejected"]
    first = items[0]
    assert isinstance(first, Rejected) and first.input_id == "items.jsonl:1"
    assert first.error.startswith("line 1 is over clean.max_input_bytes 1,000: raise")
    assert isinstance(items[2], Rejected) and items[2].input_id == "items.jsonl:3"


def test_a_jsonl_file_bigger_than_the_cap_is_replayed(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"".join(b'{"id": "%d", "title": "Item %d"}\n' % (n, n) for n in range(100)))
    assert path.stat().st_size > 1_000
    items = read(path, max_bytes=1_000)
    assert len(items) == 100 and all(isinstance(i, RawItem) for i in items)


@pytest.mark.parametrize(
    ("value", "warning"),
    [
        (
            "not-a-date",
            'published "not-a-date" is not an ISO 8601 date (e.g. 2024-11-05 or '
            "2024-11-05T10:00:00Z): published left empty",
        ),
        (
            1730800000,
            "published 1730800000 is not an ISO 8601 date (e.g. 2024-11-05 or "
            "2024-11-05T10:00:00Z): published left empty",
        ),
        (
            "2999-01-01",
            "published 2999-01-01T00:00:00+00:00 is more than a day in the future: "
            "published left empty",
        ),
    ],
)
def test_a_bad_publish_date_is_dropped_with_a_warning(value: object, warning: str) -> None:
    assert published_date(value, NOW) == (None, warning)
    item = jsonl_item({"id": "x", "title": "T", "published": value}, 1, "f.jsonl", now=NOW)
    assert item.published is None
    assert item.meta["warnings"] == [warning]


def test_good_dates_pass_without_warning() -> None:
    assert published_date("2024-11-06T06:00:00+02:00", NOW) == (
        datetime(2024, 11, 6, 4, tzinfo=UTC),
        None,
    )
    assert published_date(None, NOW) == (None, None)
    assert published_date("", NOW) == (None, None)
    item = jsonl_item({"id": "x", "title": "T", "published": "2024-11-05"}, 1, "f", now=NOW)
    assert "warnings" not in item.meta


def test_a_seed_date_header_in_the_future_is_dropped_with_a_warning() -> None:
    item = text_item("x.txt", " date 2999-01-01 A headline here\nBody.\n", now=NOW)
    assert item.published is None
    assert item.meta["warnings"] == [
        "published 2999-01-01T00:00:00+00:00 is more than a day in the future: published left empty"
    ]
