"""Pure feature extraction for dedup: normalised text, shingles, terms, entities, numbers.

Nothing here does I/O or keeps state: an `Article` goes in, hashable features come
out. Terms are typed by a one-letter prefix (`w:` word stem, `e:` entity token,
`n:` number, `q:` quoted phrase) so a shared number or name can weigh more than a
shared word, and all of them are hashed to signed 64-bit ints (SQLite's INTEGER).
"""

from __future__ import annotations

import calendar
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_][\w'’\-]*|\d[\d,. ]*\d|\d")
_OPENER = re.compile(r"[.!?…:;\"“”„»«(\[|•\n-]")
_POSSESSIVE = re.compile(r"['’]s?$")
_SPACE = re.compile(r"\s+")
_QUOTE = re.compile(r"[\"“„«]([^\"“”„«»]{12,400})[\"”»]")
_NUMBER = re.compile(r"^\d{1,3}(?:[ ,.\u00a0\u202f]\d{3})+$|^\d+$")
_NUM_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
    "thousand": 1000,
}
_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_DATE_WORDS = {
    w.casefold()
    for w in (*calendar.day_name, *calendar.day_abbr, *calendar.month_name, *calendar.month_abbr)
    if w
}
"""Weekday and month names are capitalised but name no one: not entities."""
WEEKDAYS = tuple(d.casefold() for d in calendar.day_name)
YEARS = range(1950, 2040)
DATE_TERMS = frozenset([*(f"d:{d}" for d in WEEKDAYS), *(f"n:{y}" for y in YEARS)])
"""Terms that date an event: weekdays (`d:tuesday`, weighed and kinded like words, so
they stay out of the number cosine) and years (`n:2013`)."""
STEM_LEN = 7
"""Words are cut to this many letters: a cheap, language-blind stemmer (clash/clashes)."""


def normalise(text: str) -> str:
    """Fold a text for exact comparison: NFKC, case-folded, whitespace collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


KINDS = {"w": 0, "e": 1, "n": 2, "q": 3}


@lru_cache(maxsize=1 << 17)
def term_id(term: str) -> int:
    """Hash a term (or any key) to a signed 64-bit int, stable across processes.

    The two low bits carry the kind of a typed term (`w:`, `e:`, `n:`, `q:`), so a
    stored profile of bare ids still tells names and numbers from words.
    """
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "big", signed=True)
    return (value & ~3) | KINDS.get(term[:1], 0) if term[1:2] == ":" else value


def kind_of(tid: int) -> int:
    """The kind code (`KINDS`) carried in a term id."""
    return tid & 3


def text_key(text: str) -> int:
    """Return the exact-copy key of a text: the hash of its normalised form."""
    return term_id("t:" + normalise(text))


def words(text: str) -> list[str]:
    """Split a text into word tokens (letters, or numbers with their separators)."""
    return [m.group(0) for m in _WORD.finditer(unicodedata.normalize("NFKC", text))]


def shingles(text: str, size: int) -> set[str]:
    """Return the word `size`-shingles of a text (case-folded), for MinHash."""
    return token_shingles(words(text), size)


def token_shingles(tokens: Sequence[str], size: int) -> set[str]:
    """Return the word `size`-shingles of a token list (case-folded)."""
    toks = [t.casefold() for t in tokens]
    if len(toks) <= size:
        return {" ".join(toks)} if toks else set()
    return {" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1)}


def _number(tok: str) -> int | None:
    compact = tok.replace(",", "").replace(".", "").replace(" ", "")
    compact = compact.replace("\u00a0", "").replace("\u202f", "")
    if _NUMBER.match(tok) and compact.isdigit():
        return int(compact)
    return None


def _numbers(toks: list[str]) -> list[int]:
    """Numbers written as digits or words, with scales: `10 thousand`, `three thousand`."""
    out: list[int] = []
    for i, tok in enumerate(toks):
        if tok[0].isdigit():
            value = _number(tok)
        else:
            low = tok.casefold()
            value = _NUM_WORDS.get(low) if low not in _SCALE else None
        if value is None:
            continue
        nxt = toks[i + 1].casefold() if i + 1 < len(toks) else ""
        if nxt in _SCALE:
            value *= _SCALE[nxt]
        out.append(value)
    return out


def _initial_flags(text: str) -> list[tuple[str, bool]]:
    """Tokens with a flag telling whether each opens a sentence, line or quote."""
    out = []
    prev = 0
    text = unicodedata.normalize("NFKC", text)
    search = _OPENER.search
    for m in _WORD.finditer(text):
        tok = m.group(0)
        # Only a capitalised word's position matters (is it a name?): skip the
        # look-back for the others, the bulk of the tokens.
        out.append(
            (tok, prev == 0 or (tok[0].isupper() and search(text, prev, m.start()) is not None))
        )
        prev = m.end()
    return out


def _entity_tokens(flagged: list[tuple[str, bool]], lower_seen: set[str]) -> list[str]:
    """Capitalised words that are names, folded.

    A word also written in lower case in the text (`The`/`the`) is an ordinary
    word; a capitalised word that only ever opens a sentence is not trusted
    either (`Despite`, `Relatively`): a name shows up mid-sentence somewhere.
    """
    mid = {t for t, initial in flagged if not initial and t[:1].isupper()}
    out = []
    for tok, _ in flagged:
        if len(tok) > 1 and tok[:1].isupper() and tok in mid and tok.casefold() not in lower_seen:
            out.append(_POSSESSIVE.sub("", tok.casefold()))
    return out


@dataclass(frozen=True, slots=True)
class Features:
    """What layer 3 compares: weighted-by-count terms of one article, by kind."""

    terms: Counter[str]
    """Typed terms (`w:`, `e:`, `n:`, `q:`) of title and body, with counts."""
    title: frozenset[str]
    """Word stems of the title, for title similarity."""
    length: int
    """Number of word tokens in the body."""
    title_names: frozenset[str] = frozenset()
    """Name terms (`e:...`) written in the title: whom the article is about."""
    surface: Mapping[str, str] = field(default_factory=dict)
    """Name term -> the whole folded word it was cut from (for word-frequency look-ups)."""
    body: Sequence[str] = ()
    """The body's word tokens, for the layer-2 shingles (tokenised once)."""


@lru_cache(maxsize=1 << 16)
def _stem(tok: str) -> str:
    return tok.casefold().replace("’", "'").split("'")[0][:STEM_LEN]


def extract(title: str, text: str) -> Features:
    """Extract the layer-3 features of an article (pure)."""
    head = words(title)
    body_flags = _initial_flags(text)
    body = [t for t, _ in body_flags]
    toks = head + body
    lower_seen = {t for t in toks if t[:1].islower()}
    # Headlines are often in Title Case: their words count as names only if the
    # body confirms them mid-sentence.
    flagged = [(t, True) for t in head] + body_flags
    terms: Counter[str] = Counter()
    for tok in toks:
        if tok[:1].isalpha() and len(tok) > 2:
            terms["w:" + _stem(tok)] += 1
    surface: dict[str, str] = {}
    for tok in toks:
        # "on Tuesday": the weekday an event happened tells two similar events
        # apart (see `date_penalty` in story.value). A `d:` term has the word kind.
        if tok[:1].isupper() and (low := tok.casefold()) in WEEKDAYS:
            terms["d:" + low] += 1
    for ent in _entity_tokens(flagged, lower_seen):
        if ent in _DATE_WORDS:
            continue
        key = "e:" + ent[:STEM_LEN]
        terms[key] += 1
        surface.setdefault(key, ent)
    for value in _numbers(toks):
        if value >= 10:
            # Small numbers and years say little about which report this is.
            terms[f"n:{value}"] += 1
    for quote in _QUOTE.findall(text):
        qt = [_stem(t) for t in words(quote) if len(t) > 2]
        for i in range(len(qt) - 2):
            terms["q:" + " ".join(qt[i : i + 3])] += 1
    title_stems = frozenset(_stem(t) for t in head if t[:1].isalpha() and len(t) > 2)
    title_names = frozenset(
        key for t in head if (key := "e:" + _POSSESSIVE.sub("", t.casefold())[:STEM_LEN]) in terms
    )
    return Features(
        terms=terms,
        title=title_stems,
        length=len(body),
        title_names=title_names,
        surface=surface,
        body=body,
    )
