"""Replay saved files as a test feed: seed `.txt` dumps, `.jsonl` items, `.html` pages.

Seed dumps come in the shapes `seeds/` shows: the title first; a ` date YYYY-MM-DD`
header before the title (on the title's own line); or site chrome before the title.
The connector only reads: the text keeps the chrome, which `monitor.clean` strips.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from monitor.model import Origin, RawItem, Rejected

SUFFIXES = (".txt", ".jsonl", ".html", ".htm")
MAX_FILE_BYTES = 20 * 1024 * 1024
"""Bigger files are rejected unread: a replay must not take the worker down."""

_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s*")
_MIN_TITLE_WORDS = 4


def parse_date(value: object) -> datetime | None:
    """Parse an ISO date or datetime into an aware UTC datetime (naive means UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def guess_title(text: str) -> str | None:
    """Return the first line that reads like a headline (site chrome comes before it)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines:
        if len(line.split()) >= _MIN_TITLE_WORDS:
            return line
    return lines[0] if lines else None


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes): not a text dump")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not valid UTF-8 at byte {exc.start}: re-save the file as UTF-8"
        ) from None


def text_item(name: str, text: str) -> RawItem:
    """Turn one seed-style text dump into a RawItem (pure: no I/O)."""
    published = None
    match = _DATE_HEADER.match(text)
    if match:
        published = parse_date(match.group(1))
        text = text[match.end() :]
    if not text.strip():
        raise ValueError("no text after the date header")
    return RawItem(
        input_id=name,
        source=name,
        text=text,
        title=guess_title(text),
        published=published,
    )


def _field(obj: dict[str, Any], key: str, line_no: int) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"line {line_no}: field {key!r} must be a string, not {type(value).__name__}")


def jsonl_item(obj: object, line_no: int, default_source: str) -> RawItem:
    """Turn one parsed `.jsonl` object into a RawItem (pure: no I/O).

    An object with a `title` is an entry (published even with little or no text, like a
    feed entry); one without is a page or text dump, judged by `clean.min_chars`.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"line {line_no}: expected a JSON object, got {type(obj).__name__}")
    text = _field(obj, "text", line_no)
    html = _field(obj, "html", line_no)
    title = _field(obj, "title", line_no)
    titled = bool(title and title.strip())
    if not titled and not (text and text.strip()) and not (html and html.strip()):
        raise ValueError(f"line {line_no}: none of 'title', 'text' or 'html' has content")
    raw_id = obj.get("id")
    input_id = str(raw_id) if raw_id is not None else f"{default_source}:{line_no}"
    return RawItem(
        input_id=input_id,
        source=_field(obj, "source", line_no) or default_source,
        text=text,
        html=html,
        title=title,
        url=_field(obj, "url", line_no),
        guid=_field(obj, "guid", line_no),
        published=parse_date(obj.get("published")),
        # A titled item is a headline item like a feed entry: its text may be short or none.
        origin=Origin.ENTRY if titled else Origin.DOCUMENT,
    )


class ReplayConnector:
    """Replays files and folders; every unreadable file or line becomes a `Rejected`."""

    def __init__(self, paths: Iterable[Path | str], name: str = "replay") -> None:
        self.name = name
        self.paths = [Path(p) for p in paths]

    def files(self) -> Iterator[Path | Rejected]:
        """Yield the files to replay in a stable order, or a rejection for a bad path."""
        for path in self.paths:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
                if not found:
                    yield Rejected(str(path), str(path), f"no {'/'.join(SUFFIXES)} files in folder")
                yield from found
            elif path.is_file():
                yield path
            else:
                yield Rejected(str(path), str(path), "no such file or folder")

    def items(self) -> Iterator[RawItem | Rejected]:
        """Yield one item per text/html file and per jsonl line, in file order."""
        for entry in self.files():
            if isinstance(entry, Rejected):
                yield entry
                continue
            yield from self._read(entry)

    def _read(self, path: Path) -> Iterator[RawItem | Rejected]:
        name = path.name
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise ValueError(f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit")
            if size == 0:
                raise ValueError("empty file")
            data = path.read_bytes()
            if path.suffix == ".jsonl":
                yield from self._jsonl(path, data)
                return
            text = _decode(data)
            if not text.strip():
                raise ValueError("file holds only whitespace")
            if path.suffix in (".html", ".htm"):
                yield RawItem(input_id=name, source=name, html=text)
            else:
                yield text_item(name, text)
        except (OSError, ValueError) as exc:
            yield Rejected(name, name, str(exc))

    def _jsonl(self, path: Path, data: bytes) -> Iterator[RawItem | Rejected]:
        for line_no, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            input_id = f"{path.name}:{line_no}"
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield Rejected(input_id, path.name, f"line {line_no}: malformed JSON: {exc}")
                continue
            try:
                yield jsonl_item(obj, line_no, default_source=path.name)
            except ValueError as exc:
                if isinstance(obj, dict) and obj.get("id") is not None:
                    input_id = str(obj["id"])
                yield Rejected(input_id, path.name, str(exc))


def replay_delays(
    items: Iterable[RawItem | Rejected], speed: float, max_gap_s: float
) -> Iterator[tuple[float, RawItem | Rejected]]:
    """Pair each item with the pause before it: publish-time gaps divided by `speed`.

    `speed` 0 replays as fast as possible; items without a date add no pause, and
    no pause is longer than `max_gap_s` (pure: the caller sleeps).
    """
    previous: datetime | None = None
    for item in items:
        delay = 0.0
        when = item.published if isinstance(item, RawItem) else None
        if speed > 0 and when is not None and previous is not None and when > previous:
            delay = min((when - previous).total_seconds() / speed, max_gap_s)
        if when is not None:
            previous = when
        yield delay, item
