"""Matching normalisation: one folding for texts, aliases and rule terms alike.

Case-folded, NFKC/NFKD compatibility forms, diacritics dropped, apostrophes and
hyphens unified, whitespace runs collapsed, and look-alike Cyrillic/Latin letters
folded inside mixed-script words ("Kіshak" with a Cyrillic і reads as "kishak").
Every normalised character keeps the index of the original character it came
from, so a match can be reported exactly as the source wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

# Apostrophe look-alikes sources use for possessives and transliterated names
# ("Pyongyang’s", "countryʼs", "Ukraine`s"): all read as ASCII "'".
_APOSTROPHES = "\u2019\u2018\u02bc\u02bb\u02b9\u0060\u00b4\u2032\uff07\u055a\ua78c"
_HYPHENS = "\u2010\u2011\u00ad"  # the soft hyphen is dropped below, not unified

# Lower-case Cyrillic letters that look like a Latin letter (in either case:
# casefolding has already turned "К" into "к"), and the reverse for Latin
# letters typed into Cyrillic words (a Latin "i" in "Сибiга" is common).
_CYR_TO_LAT = {
    "а": "a", "в": "b", "е": "e", "і": "i", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w",
}  # fmt: skip
_LAT_TO_CYR = {
    "a": "а", "b": "в", "e": "е", "i": "і", "j": "ј", "k": "к", "m": "м", "h": "н",
    "o": "о", "p": "р", "c": "с", "t": "т", "y": "у", "x": "х",
}  # fmt: skip
_CYR_TO_LAT_TABLE = str.maketrans(_CYR_TO_LAT)
_LAT_TO_CYR_TABLE = str.maketrans(_LAT_TO_CYR)

_LATIN = "a-z"
_CYRILLIC = "\u0400-\u052f"
# A word holding both Latin and Cyrillic letters: the only place we fold
# look-alikes, so pure Cyrillic or pure Latin words are never altered.
_MIXED_WORD = re.compile(rf"\b(?=\w*[{_LATIN}])(?=\w*[{_CYRILLIC}])\w+")
_LATIN_CHAR = re.compile(f"[{_LATIN}]")
_CYRILLIC_CHAR = re.compile(f"[{_CYRILLIC}]")


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text and the way back from its characters to the original ones."""

    text: str
    fold_origin: tuple[int, ...] | None
    """Before space runs were collapsed: fold_origin[j] is the index in the original
    of folded character j; None means identity (no character grew or vanished)."""
    starts: tuple[int, ...] = ()
    """Where each segment kept by the space collapse starts in `text` (() = no collapse)."""
    shifts: tuple[int, ...] = ()
    """How far each segment moved left, so text[i] is folded[i + shift]."""

    def _back(self, i: int) -> int:
        if self.starts:
            # A few segments (one per collapsed run) instead of one int per
            # character: building that map cost more than the matching.
            i += self.shifts[bisect_right(self.starts, i) - 1]
        return i if self.fold_origin is None else self.fold_origin[i]

    @property
    def origin(self) -> tuple[int, ...] | None:
        """origin[i] is the index in the original of text[i]; None means identity."""
        if self.fold_origin is None and not self.starts:
            return None
        return tuple(map(self._back, range(len(self.text))))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back to the original."""
        if self.fold_origin is None and not self.starts:
            return start, end
        return self._back(start), self._back(end - 1) + 1


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    """Fold one character: compatibility form, casefold, no diacritics."""
    if ch in _APOSTROPHES:
        return "'"
    if ch in _HYPHENS:
        return "" if ch == "\u00ad" else "-"
    if ch.isspace():
        return " "
    if unicodedata.category(ch) == "Cf":
        # Invisible format characters (zero-width space/joiners, BOM, bidi
        # marks) that pages leave inside words: "Zelen\u200bsky" is "Zelensky".
        return ""
    folded = unicodedata.normalize("NFKD", ch).casefold()
    # casefold can produce decomposable output ("İ" -> "i̇"), so decompose again.
    folded = unicodedata.normalize("NFKD", folded)
    out = "".join(c for c in folded if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", out)


def _fold_mixed(word: str) -> str:
    """Fold a mixed-script word into the script most of its letters use."""
    latin = len(_LATIN_CHAR.findall(word))
    cyrillic = len(_CYRILLIC_CHAR.findall(word))
    if latin >= cyrillic:
        return word.translate(_CYR_TO_LAT_TABLE)
    return word.translate(_LAT_TO_CYR_TABLE)


def _fold_mixed_words(text: str) -> str:
    # Most texts are in one script: two quick searches skip the word scan
    # (and an ASCII text, flagged as such by Python, holds no Cyrillic at all).
    if text.isascii() or not _CYRILLIC_CHAR.search(text) or not _LATIN_CHAR.search(text):
        return text
    # Folding is one character to one character, so offsets stay valid.
    return _MIXED_WORD.sub(lambda m: _fold_mixed(m.group()), text)


class _FoldCache(dict[str, str]):
    """Per-character folds, filled on first sight: `map(cache.__getitem__, text)` runs in C."""

    def __missing__(self, ch: str) -> str:
        folded = self[ch] = _fold_char(ch)
        return folded


_FOLDS = _FoldCache()
_DOUBLE_SPACE = re.compile("  +")


def _collapse_spaces(text: str) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """Drop leading spaces and shorten space runs to one; return the kept segments.

    The segments are given by where each starts in the result and how far it
    moved left (both empty when nothing changed).
    """
    # The leading run, then runs of two or more: `^ +| {2,}`, but a pattern that
    # starts with a literal ("  ") is found by a fast scan, 10x quicker here.
    lead = len(text) - len(text.lstrip(" "))
    runs = [(0, lead)] if lead else []
    runs += [(m.start() + 1, m.end()) for m in _DOUBLE_SPACE.finditer(text, lead)]
    if not runs:
        return text, (), ()
    pieces: list[str] = []
    starts: list[int] = []
    shifts: list[int] = []
    at = out = 0
    for a, b in runs:
        starts.append(out)
        shifts.append(at - out)
        pieces.append(text[at:a])
        out += a - at
        at = b
    starts.append(out)
    shifts.append(at - out)
    pieces.append(text[at:])
    return "".join(pieces), tuple(starts), tuple(shifts)


def fold_for_match(text: str) -> Normalized:
    """Normalise a text for matching, keeping a map back to the original offsets."""
    if text.isascii():
        # lower() is casefold for ASCII; only whitespace and backticks change.
        folded = text.lower().translate(_ASCII_TABLE)
        origin: list[int] | None = None
    else:
        parts = list(map(_FOLDS.__getitem__, text))
        folded = "".join(parts)
        origin = None
        if len(folded) != len(text) or "" in parts:
            # Some character became zero or several: map each output char back.
            origin = [i for i, part in enumerate(parts) for _ in part]
    collapsed, starts, shifts = _collapse_spaces(folded)
    return Normalized(
        _fold_mixed_words(collapsed), None if origin is None else tuple(origin), starts, shifts
    )


# ASCII whitespace reads as a space and a backtick as an apostrophe, length kept.
_ASCII_TABLE = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\x0b": " ", "\x0c": " ", "`": "'"})


def fold_term(term: str) -> str:
    """Normalise an alias or rule term (no offsets needed; trailing space dropped)."""
    return fold_for_match(term).text.strip()


def is_word_char(ch: str) -> bool:
    """True for characters that continue a word (letters, digits)."""
    return ch.isalnum()
