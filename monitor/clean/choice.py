"""Choosing between the precise and the default extraction of one page (pure functions).

trafilatura's precision preset sometimes returns a short wrong block (a reprints notice,
a fixtures table, a teaser box, an advertisement) where its default finds the article,
and sometimes trims away the article's lead or closing paragraph. Precision should only
trim *chrome* from the default result: the precise text is kept when it is a large part
of the default one and the default adds more than a few lines; else the default is taken.

The fast precise pass (no comparison with trafilatura's external extractors) sometimes
keeps an article's paragraphs but none of its subheadings, and with them the lists and
blocks under them: when it dropped most of the article's headings, the full precise pass
runs instead (`needs_full_pass`).
"""

from __future__ import annotations

import re

SHINGLE_WORDS = 4
"""Words per shingle: long enough that a shared shingle means shared text."""
MIN_CONTAINED = 0.5
"""Share of the precise text's shingles that must occur in the default text."""
MIN_LENGTH_SHARE = 0.35
"""Share of the default text's length the precise text must keep (precision trims; it
does not keep a third of the article and call it the article)."""
MAX_SMALL_TRIM = 0.3
"""A default that adds at most this share of the precise text's length is taken: what
precision cut there is a lead or closing paragraph more often than page chrome."""
SHORT_TEXT = 2000
"""Only a precise text shorter than this is compared with the default extraction."""
MIN_DROPPED_HEADINGS = 2
"""Article headings the fast pass must drop (and at least half of them) to be re-run."""
LEAD_CHARS = 30
"""Characters of the text after a heading looked for in the extracted text: found, the
heading is one of the article's (its section was kept), not a sidebar's or a menu's."""

_WORD = re.compile(r"\w+")


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[int]:
    """Hashes of the text's runs of `k` consecutive words (case-folded)."""
    words = [w.casefold() for w in _WORD.findall(text)]
    if len(words) < k:
        return {hash(tuple(words))} if words else set()
    return {hash(tuple(words[i : i + k])) for i in range(len(words) - k + 1)}


def contained(part: str, whole: str) -> float:
    """Share of `part`'s shingles that also occur in `whole` (1.0 for an empty `part`)."""
    mine = shingles(part)
    return len(mine & shingles(whole)) / len(mine) if mine else 1.0


def needs_default(precise: str) -> bool:
    """Whether the precise text is short enough to be checked against the default one."""
    return len(precise) < SHORT_TEXT


def keep_precise(precise: str, default: str) -> bool:
    """Whether the precise text is a plausible trim of the default one (else take the default)."""
    if len(precise) >= len(default):
        return True
    return (
        len(precise) >= MIN_LENGTH_SHARE * len(default)
        and len(default) - len(precise) > MAX_SMALL_TRIM * len(precise)
        and contained(precise, default) >= MIN_CONTAINED
    )


def _flat(text: str) -> str:
    return " ".join(text.split())


def dropped_headings(headings: list[tuple[str, str]], text: str) -> tuple[int, int]:
    """(dropped, kept + dropped) article headings of a page, for its extracted text.

    `headings` are the page's (heading text, text after the heading) pairs, whitespace
    collapsed (`html._headings`). A heading is the article's when the first LEAD_CHARS
    characters of the text after it are in `text`; it was dropped when its own text is
    not. Repeated headings count once.
    """
    flat = _flat(text)
    article = {head for head, lead in headings if head and lead and lead[:LEAD_CHARS] in flat}
    dropped = sum(head not in flat for head in article)
    return dropped, len(article)


def may_need_full_pass(heading_texts: list[str], text: str) -> bool:
    """Whether enough of the page's headings are missing from `text` for `needs_full_pass`
    to be worth asking (it also needs the text after each heading, which costs more)."""
    flat = _flat(text)
    missing = {head for head in heading_texts if head and head not in flat}
    return len(missing) >= MIN_DROPPED_HEADINGS


def needs_full_pass(headings: list[tuple[str, str]], text: str) -> bool:
    """Whether the fast precise text dropped enough of the article's headings to re-run."""
    dropped, article = dropped_headings(headings, text)
    return dropped >= MIN_DROPPED_HEADINGS and 2 * dropped >= article
