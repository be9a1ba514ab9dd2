"""Text normalisation later stages rely on: NFC, one kind of quote, glued words split."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Apostrophes and single quotes that extraction and typography mix freely: the
# Ukrainian modifier letter (ʼ, U+02BC) and the curly quotes all become "'", so
# "country’s", "countryʼs" and "country's" are one word for dedup and filters.
_SINGLE = "\u2018\u2019\u201a\u201b\u02bc\u2032\u0060\u00b4"
_DOUBLE = "\u201c\u201d\u201e\u201f\u2033"
_QUOTES = str.maketrans({**dict.fromkeys(_SINGLE, "'"), **dict.fromkeys(_DOUBLE, '"')})

# Spaces that are not ASCII spaces (no-break, thin, ...) and zero-width marks.
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Runs of spaces and tabs become one space. Only runs of two or more and lone
# tabs change: matching every lone space too ([ \t]+) rebuilt every line.
_CHANGED_RUNS = re.compile(r"[ \t]{2,}|\t")


_ONE_PASS = str.maketrans(
    {
        **_QUOTES,
        **dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad")),
        **dict.fromkeys(map(ord, "\u00a0\u1680\u202f\u205f\u3000"), " "),
        **dict.fromkeys(range(0x2000, 0x200B), " "),
    }
)
"""Quotes unified, invisible marks dropped, odd spaces made ASCII: `_QUOTES`, `_INVISIBLE`
and `_SPACES` in one table (the three sets are disjoint)."""
_ONE_PASS_CHARS = {chr(code): new or "" for code, new in _ONE_PASS.items()}
_ONE_PASS_FOUND = re.compile("[" + re.escape("".join(_ONE_PASS_CHARS)) + "]")
"""`_ONE_PASS` as a search: on non-ASCII text `str.translate` with a dict looks up every
character (~10x slower than a character-class search that stops only where one changes)."""


def _one_pass(match: re.Match[str]) -> str:
    return _ONE_PASS_CHARS[match.group()]


def normalize_text(text: str) -> str:
    """Return `text` in NFC, with unified quotes and spaces, and no invisible marks."""
    if not text.isascii():  # O(1) in CPython; the only ASCII character to change is `
        text = _ONE_PASS_FOUND.sub(_one_pass, unicodedata.normalize("NFC", text))
    elif "`" in text:
        text = text.translate(_QUOTES)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Runs of spaces and tabs never cross a line break: one pass over the text, and
    # none when there is nothing to change (the regex tried a match at every space).
    if "  " in text or "\t" in text:
        text = _CHANGED_RUNS.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


class GlueRepair:
    """Splits words glued together by extraction ("reportedthat") where unambiguous.

    A token `<word><suffix>` is split only when the suffix is one of a short
    configured list of function words, the head is at least three lowercase
    letters and, unless the suffix is marked `always`, the head also occurs as
    a word of its own in the same text. Known real words are exceptions.
    """

    def __init__(
        self, suffixes: Iterable[str], always: Iterable[str], exceptions: Iterable[str]
    ) -> None:
        self.suffixes = tuple(sorted({s.lower() for s in suffixes}, key=len, reverse=True))
        self.always = frozenset(s.lower() for s in always)
        self.exceptions = frozenset(e.lower() for e in exceptions)
        if self.suffixes:
            alternatives = "|".join(re.escape(s) for s in self.suffixes)
            self._pattern: re.Pattern[str] | None = re.compile(
                rf"\b([a-z]{{3,}}?)({alternatives})\b"
            )
            # Every match of the pattern contains a match of this one (`[a-z]{3}`
            # then a suffix), found from the suffix: the engine skips to the
            # suffixes' first letters instead of trying a head at every position.
            # Most texts have no candidate at all.
            self._candidate: re.Pattern[str] | None = re.compile(
                "|".join(rf"{re.escape(s)}\b(?<=[a-z]{{3}}{re.escape(s)})" for s in self.suffixes)
            )
        else:
            self._pattern = self._candidate = None

    def __call__(self, text: str) -> str:
        """Return `text` with the glued words split."""
        if self._pattern is None or self._candidate is None or not self._candidate.search(text):
            return text
        vocabulary: set[str] | None = None

        def split(match: re.Match[str]) -> str:
            nonlocal vocabulary
            token, head, suffix = match.group(0), match.group(1), match.group(2)
            if token in self.exceptions:
                return token
            if suffix not in self.always:
                if vocabulary is None:
                    # Built lazily: most texts have no candidate at all.
                    vocabulary = set(re.findall(r"\b[a-z]+\b", text))
                if head not in vocabulary:
                    return token
            return f"{head} {suffix}"

        return self._pattern.sub(split, text)
