"""Line rules for plain-text page dumps (and for the lines HTML extraction yields)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.clean.phrases import Phrases, line_key
from monitor.model import Removal

_BULLET = re.compile(r"^\s*[-–—•·*›»▶►→]\s")
# A line ending like this is a sentence, not a headline in a list of links.
_SENTENCE_END = re.compile(r"[.!…][\"')\]]?$")

# A video player's playlist printed as text: "1:13 Giant anteater born at the zoo Pause".
# A clock time ("9:15 a.m. Police arrive", "10:30 ET") is not a duration.
_DURATION = re.compile(
    r"^\d{1,2}:[0-5]\d\s+(?!(?:[ap]\.?\s?m\b|gmt\b|utc\b|[ecmp][sd]?t\b))\S", re.IGNORECASE
)
PLAYLIST_MIN_LINES = 3
"""Consecutive duration-headed lines that make a playlist (two could be a timeline)."""
PLAYLIST_MAX_WORDS = 25
"""A playlist entry is a video's title: longer lines are text."""

HEADLINE = "headline"
HEADLINE_REPEAT = "headline_repeat"
SITE_CHROME = "site_chrome"
DATELINE = "dateline"
PLAYLIST = "video_playlist"


@dataclass(frozen=True, slots=True)
class LineRules:
    """Where the rules look: how far down for the headline, how short chrome is."""

    head_window: int = 12
    """The headline is looked for among this many non-blank lines at the top."""
    chrome_max_words: int = 8
    """Lines above the headline are dropped as site chrome only if all are this short."""
    guess_max_words: int = 20
    """With no title given, a headline guess is a line of 4 to this many words."""


@dataclass(frozen=True, slots=True)
class Stripped:
    """What the line rules kept and removed."""

    title: str | None
    dateline: str | None
    kept: tuple[str, ...]
    removed: tuple[Removal, ...]
    headline: bool = False
    """True when the headline was found (and removed) in the text itself."""


def _words(line: str) -> int:
    return len(line.split())


def _find_headline(
    lines: Sequence[str],
    top: Sequence[int],
    title: str | None,
    phrases: Phrases,
    rules: LineRules,
) -> int | None:
    """Return the index of the headline line, if the top of the text has one."""
    found: int | None = None
    if title:
        want = line_key(title)
        found = next((i for i in top if line_key(lines[i]) == want), None)
    else:
        for i in top:
            line = lines[i]
            match = phrases.match(line)
            if match is not None and not match.block:
                continue  # menus, share buttons: chrome above a headline
            if (
                match is None
                and not _BULLET.match(line)
                and 4 <= _words(line) <= rules.guess_max_words
                and not _SENTENCE_END.search(line)
            ):
                found = i
            break
    if found is None:
        return None
    # Only short lines (menus, site names, taglines) may sit above a headline;
    # a long line above means this is not the top of an article page.
    above = (i for i in top if i < found)
    if any(_words(lines[i]) > rules.chrome_max_words for i in above):
        return None
    return found


def _headline_like(line: str, bulleted: bool) -> bool:
    if bulleted:
        return _words(line) <= 40
    return _words(line) <= 25 and not _SENTENCE_END.search(line)


def strip_lines(
    lines: Sequence[str],
    phrases: Phrases,
    title: str | None = None,
    rules: LineRules = LineRules(),
) -> Stripped:
    """Apply the line rules: chrome above the headline, headline repeats, dateline, phrases."""
    status: list[str | None] = [None] * len(lines)
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    top = nonblank[: rules.head_window]

    head = _find_headline(lines, top, title, phrases, rules)
    if head is not None:
        title = lines[head].strip()
        for i in top:
            if i < head:
                status[i] = SITE_CHROME
        status[head] = HEADLINE
        want = line_key(title)
        for i in top:
            if i > head and line_key(lines[i]) == want:
                status[i] = HEADLINE_REPEAT

    dateline = None
    start = head + 1 if head is not None else 0
    candidates = [i for i in nonblank if i >= start and status[i] is None][:3]
    for i in candidates:
        if phrases.dateline(lines[i]):
            status[i] = DATELINE
            dateline = lines[i].strip()
            break

    _mark_playlists(lines, nonblank, status)

    pos = 0
    while pos < len(nonblank):
        i = nonblank[pos]
        pos += 1
        if status[i] is not None:
            continue
        match = phrases.match(lines[i])
        if match is None:
            continue
        status[i] = match.rule
        if match.block:
            pos = _take_block(lines, nonblank, pos, status, match.rule, phrases)

    kept = tuple(lines[i].strip() for i in nonblank if status[i] is None)
    removed = tuple(
        Removal(text=lines[i].strip(), rule=rule)
        for i in nonblank
        if (rule := status[i]) is not None
    )
    return Stripped(
        title=title, dateline=dateline, kept=kept, removed=removed, headline=head is not None
    )


def _mark_playlists(
    lines: Sequence[str], nonblank: Sequence[int], status: list[str | None]
) -> None:
    """Mark runs of at least `PLAYLIST_MIN_LINES` video entries ("0:48 Title") as a playlist."""
    run: list[int] = []
    for i in [*nonblank, -1]:
        if (
            i >= 0
            and status[i] is None
            and _DURATION.match(lines[i].lstrip())
            and _words(lines[i]) <= PLAYLIST_MAX_WORDS
        ):
            run.append(i)
            continue
        if len(run) >= PLAYLIST_MIN_LINES:
            for j in run:
                status[j] = PLAYLIST
        run = []


def _take_block(
    lines: Sequence[str],
    nonblank: Sequence[int],
    pos: int,
    status: list[str | None],
    rule: str,
    phrases: Phrases,
) -> int:
    """Mark the headline list after a block header; return where scanning resumes."""
    style: bool | None = None
    taken = 0
    while pos < len(nonblank) and taken < phrases.block_max_lines:
        i = nonblank[pos]
        line = lines[i]
        if status[i] is not None or phrases.match(line) is not None:
            break
        bulleted = bool(_BULLET.match(line))
        # A list keeps one style: a plain line after bulleted items (or the
        # reverse) is where the article, or the next block, begins.
        if style is not None and bulleted != style:
            break
        if not _headline_like(line, bulleted):
            break
        style = bulleted
        status[i] = rule
        taken += 1
        pos += 1
    return pos
