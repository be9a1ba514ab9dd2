"""Choosing between the precise and the default extraction of one page (pure functions).

trafilatura's precision preset sometimes returns a short wrong block (a reprints notice,
a fixtures table, a teaser box, an advertisement) where its default finds the article,
and sometimes trims away the article's lead or closing paragraph. Precision should only
trim *chrome* from the default result: the precise text is kept when it is a large part
of the default one and the default adds more than a few lines; else the default is taken.
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
