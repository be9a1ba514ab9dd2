"""Replay saved files as a test feed: seed `.txt` dumps, `.jsonl` items, `.html` pages.

Seed dumps come in the shapes `seeds/` shows: the title first; a ` date YYYY-MM-DD`
header before the title (on the title's own line); or site chrome before the title.
The connector only reads: the text keeps the chrome, which `monitor.clean` strips.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from connectors.encoding import SNIFF_BYTES, bom_encoding, bomless_utf16, decode_text
from monitor.config import CleanSettings
from monitor.model import Origin, RawItem, Rejected, utcnow

SUFFIXES = (".txt", ".jsonl", ".html", ".htm")
MAX_INPUT_BYTES = CleanSettings.model_fields["max_input_bytes"].default
"""`clean.max_input_bytes`'s default: a bigger .txt/.html file or .jsonl line is rejected unread."""
MAX_FUTURE = timedelta(days=1)
"""A publish date further ahead than this is a mistake, not a time zone."""
SIZE_HINT = (
    "raise clean.max_input_bytes in the config file (or NEWS_MONITOR_CLEAN__MAX_INPUT_BYTES)"
)

_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s*")
_ESCAPED = re.compile("[\udc80-\udcff]")
"""Undecodable bytes, as `surrogateescape` leaves them in a line."""
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


def published_date(value: object, now: datetime) -> tuple[datetime | None, str | None]:
    """An input's publish date, or None and a warning saying why it was not used.

    No date is no warning; text that is not an ISO 8601 date, another JSON type, and a
    date more than `MAX_FUTURE` after `now` are each kept as null, with the reason.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    parsed = parse_date(value)
    if parsed is None:
        return None, (
            f"published {orjson.dumps(value).decode()} is not an ISO 8601 date "
            "(e.g. 2024-11-05 or 2024-11-05T10:00:00Z): published left empty"
        )
    if parsed > now + MAX_FUTURE:
        return None, (
            f"published {parsed.isoformat()} is more than a day in the future: published left empty"
        )
    return parsed, None


def guess_title(text: str) -> str | None:
    """Return the first line that reads like a headline (site chrome comes before it)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines:
        if len(line.split()) >= _MIN_TITLE_WORDS:
            return line
    return lines[0] if lines else None


def text_item(name: str, text: str, now: datetime | None = None) -> RawItem:
    """Turn one seed-style text dump into a RawItem (pure: no I/O)."""
    now = now or utcnow()
    published, warning = None, None
    match = _DATE_HEADER.match(text)
    if match:
        published, warning = published_date(match.group(1), now)
        text = text[match.end() :]
    if not text.strip():
        raise ValueError("no text after the date header")
    return RawItem(
        input_id=name,
        source=name,
        text=text,
        title=guess_title(text),
        published=published,
        fetched=now,
        meta={"warnings": [warning]} if warning else {},
    )


def _field(obj: dict[str, Any], key: str, line_no: int) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"line {line_no}: field {key!r} must be a string, not {type(value).__name__}")


def jsonl_item(
    obj: object, line_no: int, default_source: str, now: datetime | None = None
) -> RawItem:
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
    now = now or utcnow()
    published, warning = published_date(obj.get("published"), now)
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
        published=published,
        fetched=now,
        meta={"warnings": [warning]} if warning else {},
        # A titled item is a headline item like a feed entry: its text may be short or none.
        origin=Origin.ENTRY if titled else Origin.DOCUMENT,
    )


class ReplayConnector:
    """Replays files and folders; every unreadable file or line becomes a `Rejected`.

    `max_bytes` (the worker's `clean.max_input_bytes`) caps a .txt/.html file and each
    .jsonl line; a .jsonl file is read line by line, so it may be of any size.
    """

    def __init__(
        self, paths: Iterable[Path | str], name: str = "replay", max_bytes: int = MAX_INPUT_BYTES
    ) -> None:
        self.name = name
        self.paths = [Path(p) for p in paths]
        self.max_bytes = max_bytes

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
            if size == 0:
                raise ValueError("empty file")
            if path.suffix == ".jsonl":
                yield from self._jsonl(path)
                return
            if size > self.max_bytes:
                raise ValueError(
                    f"file is {size:,} bytes, over clean.max_input_bytes {self.max_bytes:,}: "
                    f"{SIZE_HINT} to replay it"
                )
            text, _ = decode_text(path.read_bytes(), html=path.suffix in (".html", ".htm"))
            if not text.strip():
                raise ValueError("file holds only whitespace")
            if path.suffix in (".html", ".htm"):
                yield RawItem(input_id=name, source=name, html=text)
            else:
                yield text_item(name, text)
        except (OSError, ValueError) as exc:
            yield Rejected(name, name, str(exc))

    def _jsonl(self, path: Path) -> Iterator[RawItem | Rejected]:
        """One item or rejection per non-blank line, read one line at a time."""
        with path.open("rb") as raw:
            head = raw.peek(SNIFF_BYTES)[:SNIFF_BYTES]
            encoding = bom_encoding(head) or bomless_utf16(head) or "utf-8"
            if encoding == "utf-8" and b"\x00" in head:
                raise ValueError(
                    "binary file (NUL bytes, and not UTF-16 or UTF-32): not JSON lines"
                )
            label = encoding.removesuffix("-sig").upper()
            stream = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape")
            for line_no, line in enumerate(_lines(stream, self.max_bytes), start=1):
                if line is not None and not line.strip():
                    continue
                yield self._jsonl_line(path.name, line_no, line, label)

    def _jsonl_line(
        self, name: str, line_no: int, line: str | None, label: str
    ) -> RawItem | Rejected:
        input_id = f"{name}:{line_no}"
        if line is None:
            return Rejected(
                input_id,
                name,
                f"line {line_no} is over clean.max_input_bytes {self.max_bytes:,}: {SIZE_HINT}",
            )
        if bad := _ESCAPED.search(line):
            byte = ord(bad.group(0)) - 0xDC00
            return Rejected(
                input_id,
                name,
                f"line {line_no}: not valid {label} (byte 0x{byte:02x} at character "
                f"{bad.start() + 1}): re-save the file as UTF-8",
            )
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return Rejected(input_id, name, f"line {line_no}: malformed JSON: {exc}")
        try:
            return jsonl_item(obj, line_no, default_source=name)
        except ValueError as exc:
            if isinstance(obj, dict) and obj.get("id") is not None:
                input_id = str(obj["id"])
            return Rejected(input_id, name, str(exc))


def _lines(stream: io.TextIOWrapper, limit: int) -> Iterator[str | None]:
    """The stream's lines; None for a line longer than `limit` characters (skipped unread)."""
    while line := stream.readline(limit + 1):
        if len(line) <= limit or line.endswith("\n"):
            yield line
            continue
        while (rest := stream.readline(limit)) and not rest.endswith("\n"):
            pass
        yield None


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
