"""Boilerplate phrase lists: loaded from YAML data, validated, compiled for matching."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.clean.normalize import GlueRepair, normalize_text
from monitor.config import ConfigError, ConfigProblem, problems_from, read_yaml

# Leading list markers and decorations that say nothing about the line
# ("› Subscribe", "- Read more", "• Related"), and trailing punctuation.
_LEAD = re.compile(r"^[\s\-–—•·*›»>▶►→|#:(\[]+")
_TRAIL = re.compile(r"[\s:.!?…»|>›→)\]]+$")


# The same character sets for str.lstrip/rstrip, which do in C what the regexes
# did with a match attempt at every space of a long line (`\s` is str.isspace).
_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character for which str.isspace() is true (what `\\s` matches)."""
_LEAD_CHARS = _SPACES + "-–—•·*›»>▶►→|#:(["
_TRAIL_CHARS = _SPACES + ":.!?…»|>›→)]"


_KEYS: dict[str, str] = {}
"""line -> line_key(line): the clean stage asks for the key of one line up to five times
(headline, phrases, templates strip and learn). Bounded: cleared when full, short lines only."""
_KEYS_MAX = 1024
_KEYS_LINE_MAX = 2048


def line_key(line: str) -> str:
    """Return the form a line is matched in: case-folded, without decoration."""
    key = _KEYS.get(line)
    if key is None:
        # = _TRAIL.sub("", _LEAD.sub("", line)), then folded and spaces collapsed.
        key = " ".join(line.lstrip(_LEAD_CHARS).rstrip(_TRAIL_CHARS).casefold().split())
        if len(line) <= _KEYS_LINE_MAX:
            if len(_KEYS) >= _KEYS_MAX:
                _KEYS.clear()
            _KEYS[line] = key
    return key


def _prefix_key(phrase: str) -> str:
    # A prefix keeps its trailing punctuation: "Read also:" must not match
    # "Read also the statement of the General Staff ...".
    return " ".join(_LEAD.sub("", normalize_text(phrase)).casefold().split())


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleSpec(_Spec):
    """One named rule: whole-line phrases and line-start phrases."""

    exact: list[str] = []
    """Lines that are boilerplate when they are exactly this (after `line_key`)."""
    prefix: list[str] = []
    """Short lines that start with this are boilerplate."""
    pattern: list[str] = []
    """Short lines that start with a match of this regular expression (matched against
    the case-folded line) are boilerplate: `(copyright|©)\\W*(\\d{4}|©)` for
    "Copyright 2016 WXYZ. All rights reserved." but not "Copyright holders sued"."""
    max_words: int = Field(default=16, ge=1)
    """A `prefix` match counts only on lines of at most this many words."""
    block: bool = False
    """An `exact` match heads a block: the headline list after it goes too."""

    @field_validator("exact", "prefix")
    @classmethod
    def _non_empty(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _prefix_key(value):
                raise ValueError(f"empty phrase {value!r}")
        return values

    @field_validator("pattern")
    @classmethod
    def _patterns(cls, values: list[str]) -> list[str]:
        return _valid_regexes(values)


class GlueSpec(_Spec):
    """Which glued words to split (see `GlueRepair`)."""

    suffixes: list[str] = []
    always: list[str] = []
    exceptions: list[str] = []


class PhraseFile(_Spec):
    """The whole phrase file."""

    rules: dict[str, RuleSpec]
    datelines: list[str] = []
    glued_words: GlueSpec = GlueSpec()
    block_max_lines: int = Field(default=15, ge=1)

    @field_validator("datelines")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        return _valid_regexes(values)


def _valid_regexes(values: list[str]) -> list[str]:
    """The values, each checked by `_check_regex` (a ValueError names the first bad one)."""
    for value in values:
        _check_regex(value)
    return values


def _check_regex(value: str) -> None:
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression {value!r}: {exc}") from None
    try:
        # As it is used: one alternative among others.
        re.compile(f"(?:x)|(?:{value})")
    except re.error as exc:
        raise ValueError(
            f"regular expression {value!r} cannot be combined with others: {exc} "
            "(global flags such as (?i) are not allowed; lines are matched case-folded)"
        ) from None
    if compiled.match(""):
        raise ValueError(f"regular expression {value!r} matches an empty line")


@dataclass(frozen=True, slots=True)
class Match:
    """A line matched by a phrase rule."""

    rule: str
    block: bool
    """True when the line heads a block whose headline list goes with it."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    name: str
    exact: frozenset[str]
    prefix: re.Pattern[str] | None
    max_words: int
    block: bool


class Phrases:
    """Compiled phrase rules: which rule, if any, a line is boilerplate under."""

    def __init__(self, spec: PhraseFile) -> None:
        self._rules = tuple(self._compile(name, rule) for name, rule in spec.rules.items())
        # Most lines are article text that no rule matches: one set look-up and
        # one pattern (every rule's phrases) tell so before the rules are tried.
        self._any_exact = frozenset().union(*(r.exact for r in self._rules))
        prefixes = [r.prefix.pattern for r in self._rules if r.prefix is not None]
        self._any_prefix = re.compile("|".join(prefixes)) if prefixes else None
        self.datelines = tuple(re.compile(p) for p in spec.datelines)
        self.block_max_lines = spec.block_max_lines
        glue = spec.glued_words
        self.repair_glue = GlueRepair(glue.suffixes, glue.always, glue.exceptions)

    @staticmethod
    def _compile(name: str, rule: RuleSpec) -> _Compiled:
        exact = frozenset(line_key(normalize_text(p)) for p in rule.exact)
        prefixes = sorted({_prefix_key(p) for p in rule.prefix}, key=len)
        # One alternation per rule, anchored at the start: the phrases end on a word
        # boundary, so "subscribe" does not match "subscribers"; the patterns as written.
        alternatives = [f"(?:{re.escape(p)})(?!\\w)" for p in reversed(prefixes)]
        alternatives += [f"(?:{p})" for p in rule.pattern]
        pattern = re.compile("|".join(alternatives)) if alternatives else None
        return _Compiled(name, exact, pattern, rule.max_words, rule.block)

    def match(self, line: str) -> Match | None:
        """Return the rule `line` is boilerplate under, or None for article text."""
        key = line_key(line)
        if not key:
            return None
        if key not in self._any_exact and (
            self._any_prefix is None or not self._any_prefix.match(key)
        ):
            return None
        words = 0
        for rule in self._rules:
            if key in rule.exact:
                return Match(rule.name, rule.block)
        for rule in self._rules:
            if rule.prefix is None or not rule.prefix.match(key):
                continue
            words = words or len(key.split())
            if words <= rule.max_words:
                return Match(rule.name, False)
        return None

    def dateline(self, line: str) -> bool:
        """Return True if `line` is a dateline such as "Kyiv • UNN"."""
        return any(p.fullmatch(line.strip()) for p in self.datelines)


def load_phrases(path: Path) -> Phrases:
    """Load and validate a phrase file; raise ConfigError naming file, key and reason."""
    data = read_yaml(path)
    try:
        spec = PhraseFile(**data)
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, str(path))) from None
    if not spec.rules:
        raise ConfigError([ConfigProblem(file=str(path), key="rules", reason="no rules defined")])
    return Phrases(spec)
