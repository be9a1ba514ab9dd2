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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, filterfalse, islice
from operator import and_, itemgetter, or_

_WORD = re.compile(r"[^\W\d_][\w'’\-]*|\d[\d,. ]*\d|\d")
_WORD_SPLIT = re.compile(f"({_WORD.pattern})")
"""The same tokens, captured: one split gives the tokens and the gaps between them."""
_ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'\-]*|[0-9][0-9,. ]*[0-9]|[0-9]")
_ASCII_WORD_SPLIT = re.compile(f"({_ASCII_WORD.pattern})")
"""`_WORD` for ASCII text: on ASCII, `\\w` is `[A-Za-z0-9_]` and `\\d` is `[0-9]`, and listed
ranges match ~1.5x faster than Unicode categories (tested to split alike)."""
_FIRST = itemgetter(0)
_OPENER = re.compile(r"[.!?…:;\"“”„»«(\[|•\n-]")
_POSSESSIVE = re.compile(r"['’]s?$")
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
_NUM_TERMS = tuple(sorted({"w:" + w[:STEM_LEN] for w in _NUM_WORDS}))
"""The `w:` terms of the number words: a text whose terms have none of them holds none
(every spelling of a number word is cut to one of these)."""


def fold_for_key(text: str) -> str:
    """Fold a text for exact comparison: NFKC, case-folded, whitespace collapsed."""
    # str.split() splits on runs of what `\s` matches and drops the ends: the
    # same as collapsing whitespace with a regex and stripping, done in C.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


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


def key_id(key: str) -> int:
    """`term_id` without its memo, for one-off keys (a text, a URL, a MinHash band)."""
    # Through the LRU, each article left its whole normalised text and ~20 band keys
    # in it (~33 MiB of the 131,072 entries at 16,000 items), crowding the terms out.
    return term_id.__wrapped__(key)


def text_key(title: str, text: str = "") -> int:
    """Return the exact-copy key of an article: the hash of its title and text normalised
    (as one text, a line break between them: the same key for the same words)."""
    # fold_for_key(title + "\n" + text), without copying the long text once more.
    return key_id("t:" + (fold_for_key(title) + " " + fold_for_key(text)).strip())


def words(text: str) -> list[str]:
    """Split a text into word tokens (letters, or numbers with their separators)."""
    text = unicodedata.normalize("NFKC", text)
    return (_ASCII_WORD if text.isascii() else _WORD).findall(text)


def shingles(text: str, size: int) -> set[str]:
    """Return the word `size`-shingles of a text (case-folded), for MinHash."""
    return token_shingles(words(text), size)


def token_shingles(tokens: Sequence[str], size: int) -> set[str]:
    """Return the word `size`-shingles of a token list (case-folded)."""
    toks = list(map(str.casefold, tokens))
    if len(toks) <= size:
        return {" ".join(toks)} if toks else set()
    # zip of shifted lists (they end together at the shortest): windows built in C.
    return set(map(" ".join, zip(*(toks[i:] for i in range(size)), strict=False)))


def _number(tok: str) -> int | None:
    compact = tok.replace(",", "").replace(".", "").replace(" ", "")
    compact = compact.replace("\u00a0", "").replace("\u202f", "")
    if _NUMBER.match(tok) and compact.isdigit():
        return int(compact)
    return None


_NUM_FORMS = {form for w in _NUM_WORDS for form in (w, w.title(), w.upper())}
"""Number words as written (`three`, `Three`, `THREE`): a set look-up, no case-folding."""


def _numbers(
    toks: list[str], distinct: Sequence[str] | None = None, words: bool = True
) -> list[int]:
    """Numbers written as digits or words, with scales: `10 thousand`, `three thousand`.

    `distinct` (the distinct tokens, if the caller has them) lets the few tokens
    that can be numbers be picked out in C before the loop over positions. `words`:
    False when the caller knows no token is a number word (`_NUM_TERMS`), so only
    the tokens that start with a digit are looked at.
    """
    out: list[int] = []
    forms = _NUM_FORMS
    if distinct is None:
        distinct = list(dict.fromkeys(toks))
    flags = map(str.isdigit, map(_FIRST, distinct))
    if words:
        flags = map(or_, flags, map(_NUM_WORDS.__contains__, map(str.casefold, distinct)))
    numeric = set(compress(distinct, flags))
    if not numeric:
        return out
    for i in compress(range(len(toks)), map(numeric.__contains__, toks)):
        tok = toks[i]
        if tok[0].isdigit():
            value = _number(tok)
        elif tok in forms:
            value = _NUM_WORDS[tok.casefold()] if tok.casefold() not in _SCALE else None
        elif tok.casefold() in _NUM_WORDS:  # rarer spellings (tHree)
            low = tok.casefold()
            value = _NUM_WORDS[low] if low not in _SCALE else None
        else:
            continue
        if value is None:
            continue
        nxt = toks[i + 1].casefold() if i + 1 < len(toks) else ""
        if nxt in _SCALE:
            value *= _SCALE[nxt]
        out.append(value)
    return out


def _tokens_and_mid(text: str) -> tuple[list[str], set[str]]:
    """The word tokens of a text, and the capitalised ones seen mid-sentence at least once.

    A token opens a sentence, line or quote when the gap before it holds an opener
    (`.`, `:`, a quote mark, a line break, ...); only capitalised tokens are checked.
    Tokens and gaps come from two C-level regex passes (findall and split).
    """
    text = unicodedata.normalize("NFKC", text)
    parts = (_ASCII_WORD_SPLIT if text.isascii() else _WORD_SPLIT).split(text)
    toks: list[str] = parts[1::2]
    gaps = parts[2::2]  # gaps[i] is the text before toks[i + 1]
    # Flags computed in C (map/compress over the two lists), no per-token bytecode.
    mid = set(
        compress(
            islice(toks, 1, None),
            map(
                and_,
                map(_OPENER_FREE.__getitem__, gaps),
                map(str.isupper, map(_FIRST, islice(toks, 1, None))),
            ),
        )
    )
    return toks, mid


class _OpenerFree(dict[str, bool]):
    """Gap -> no opener in it, filled on first sight (the gaps of a text are few: " ", ", ")."""

    def __missing__(self, gap: str) -> bool:
        if len(self) >= 4096:
            self.clear()  # odd texts (long runs of symbols) must not grow it forever
        free = self[gap] = _OPENER.search(gap) is None
        return free


_OPENER_FREE = _OpenerFree()


@lru_cache(maxsize=1 << 16)
def _fold_name(tok: str) -> str:
    return _POSSESSIVE.sub("", tok.casefold())


def _entity_tokens(toks: list[str], mid: set[str], lower_seen: set[str]) -> list[str]:
    """Capitalised words that are names, folded.

    A word also written in lower case in the text (`The`/`the`) is an ordinary
    word; a capitalised word that only ever opens a sentence is not trusted
    either (`Despite`, `Relatively`): a name shows up mid-sentence somewhere.
    """
    return [
        _fold_name(tok)
        for tok in toks
        if tok in mid and len(tok) > 1 and tok.casefold() not in lower_seen
    ]


@dataclass(frozen=True, slots=True)
class Features:
    """What layer 3 compares: weighted-by-count terms of one article, by kind."""

    terms: Counter[str]
    """Typed terms (`w:`, `e:`, `n:`, `q:`) of title and body, with counts."""
    title: frozenset[str]
    """Word stems of the title, for title similarity."""
    length: int
    """Number of word tokens in the body."""
    body: Sequence[str] = ()
    """The body's word tokens, for the layer-2 shingles (tokenised once)."""
    words: int | None = None
    """How many of `terms` are `w:` terms, all before the other kinds (None: not known)."""


@lru_cache(maxsize=1 << 16)
def stem(tok: str) -> str:
    """The stem of a word: folded, cut at an apostrophe and to `STEM_LEN` letters."""
    return tok.casefold().replace("’", "'").split("'")[0][:STEM_LEN]


def _word_term(tok: str) -> str:
    """The `w:` term of a token, or "" for numbers and words of one or two letters."""
    if tok[0].isalpha() and len(tok) > 2:
        # stem() inlined: this runs once for every new token of the stream.
        return "w:" + tok.casefold().replace("’", "'").split("'")[0][:STEM_LEN]
    return ""


_WORD_TERMS: dict[str, str] = {}
"""Token -> `_word_term(token)`, for the counting in C below (cleared when full)."""
_WORD_TERMS_MAX = 1 << 17
"""A fixed cap, not per story: as many entries as `term_id`'s memo. A stream's distinct
tokens (cased forms and numbers beside the words) pass 2**16 within a few thousand
items, and each refill costs ~1 us a token."""


def _count_word_terms(toks: list[str], distinct: Sequence[str]) -> Counter[str]:
    """Count the `w:` terms of the tokens, in order of first appearance.

    Known tokens are looked up and counted in C (a map over a plain dict); only
    the tokens never seen before run Python code, once each.
    """
    memo = _WORD_TERMS
    if len(memo) > _WORD_TERMS_MAX:
        memo.clear()
    for tok in filterfalse(memo.__contains__, distinct):
        memo[tok] = _word_term(tok)
    return Counter(filter(None, map(memo.__getitem__, toks)))


def extract(title: str, text: str) -> Features:
    """Extract the layer-3 features of an article (pure)."""
    head = words(title)
    # Headlines are often in Title Case: their words count as names only if the
    # body confirms them mid-sentence.
    body, mid = _tokens_and_mid(text)
    toks = head + body
    distinct = list(dict.fromkeys(toks))
    firsts = list(map(_FIRST, toks))
    lower_seen = set(compress(toks, map(str.islower, firsts)))
    terms = _count_word_terms(toks, distinct)
    n_words = len(terms)
    # Only capitalised tokens can be weekdays or names: pick them out in C, in order.
    caps = list(compress(toks, map(str.isupper, firsts)))
    for tok in caps:
        # "on Tuesday": the weekday an event happened tells two similar events
        # apart (see `date_penalty` in story.value). A `d:` term has the word kind.
        if (low := tok.casefold()) in WEEKDAYS:
            terms["d:" + low] += 1
    for ent in _entity_tokens(caps, mid, lower_seen):
        if ent in _DATE_WORDS:
            continue
        key = "e:" + ent[:STEM_LEN]
        terms[key] += 1
    has_words = any(map(terms.__contains__, _NUM_TERMS))
    for value in _numbers(toks, distinct, has_words):
        if value >= 10:
            # Small numbers and years say little about which report this is.
            terms[f"n:{value}"] += 1
    for quote in _QUOTE.findall(text):
        qt = [stem(t) for t in words(quote) if len(t) > 2]
        for i in range(len(qt) - 2):
            terms["q:" + " ".join(qt[i : i + 3])] += 1
    title_stems = frozenset(stem(t) for t in head if t[:1].isalpha() and len(t) > 2)
    return Features(
        terms=terms,
        title=title_stems,
        length=len(body),
        body=body,
        words=n_words,
    )
