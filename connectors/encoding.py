"""Which encoding a saved file is in: a byte-order mark, BOM-less UTF-16, else UTF-8 (pure).

Nothing is guessed beyond what the bytes show: a file that is none of these is an error
that says where it stopped decoding and what to do, never text decoded wrongly.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
SNIFF_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of `head` announces, if any."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def bomless_utf16(head: bytes) -> str | None:
    """`utf-16-le`/`utf-16-be` when `head` reads as UTF-16 text without a BOM, else None.

    Text written as UTF-16 has a NUL in the high byte of every ASCII character (spaces,
    digits, punctuation, Latin letters: at least a tenth of the units even in Cyrillic
    prose) and almost none in the low bytes; decoded, it has no control characters.
    Binary data fails one of these.
    """
    head = head[: len(head) - len(head) % 2]
    if len(head) < 8:
        return None
    units = len(head) // 2
    even, odd = head[0::2].count(0), head[1::2].count(0)
    for name, zeros, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros >= 0.1 * units and other <= 0.02 * units:
            try:
                text = head.decode(name)
            except UnicodeDecodeError:
                continue
            if not _CONTROL.search(text):
                return name
    return None


def declared_html_charset(head: bytes) -> str | None:
    """The charset a page's `<meta charset>` (or http-equiv) declares, if Python knows it."""
    m = _META_CHARSET.search(head)
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_text(data: bytes, *, html: bool = False) -> tuple[str, str]:
    """Decode a text or HTML file; return (text, encoding). ValueError says why it cannot.

    A BOM (UTF-8, UTF-16, UTF-32) wins; then BOM-less UTF-16; for HTML the page's declared
    charset; else UTF-8, strictly. NUL bytes in anything else mean a binary file.
    """
    head = data[:SNIFF_BYTES]
    encoding = bom_encoding(head) or bomless_utf16(head)
    if encoding is None and html:
        encoding = declared_html_charset(head)
    if encoding is None:
        if b"\x00" in head:
            raise ValueError("binary file (NUL bytes, and not UTF-16 or UTF-32): not a text dump")
        encoding = "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not valid {exc.encoding.upper()} at byte {exc.start}: re-save the file as UTF-8"
        ) from None
