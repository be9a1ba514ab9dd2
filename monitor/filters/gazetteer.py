"""The entity gazetteer and the Aho-Corasick matcher that finds entities and rule terms.

One automaton holds every alias of every entity and every keyword of every
rule, so an article is scanned once however many aliases there are. Matches
must start and end on word boundaries ("Kursk" is not found in "Kurskaya");
an alias or term ending in `*` runs on to the end of the word, which is how
inflected forms are caught ("Зеленськ*" finds "Зеленського").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import ahocorasick
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.config import ConfigError, ConfigProblem, problems_from
from monitor.filters.normalize import Normalized, fold_term, is_word_char

_SLUG = re.compile(r"[^0-9a-z]+")


def slugify(name: str) -> str:
    """Turn a canonical name into the key rules use: "North Korea" -> "north-korea"."""
    return _SLUG.sub("-", fold_term(name)).strip("-")


class EntityEntry(BaseModel):
    """One entity as written in the gazetteer file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    """A Wikidata QID where one exists, else a slug."""
    name: str = Field(min_length=1)
    type: str = Field(min_length=1)
    key: str | None = None
    """The short name rules use (`entity:north-korea`); default: the name, slugified."""
    aliases: tuple[str, ...] = ()
    demonyms: tuple[str, ...] = ()
    """Adjectives and nouns for the people ("North Korean"); plurals are added."""


class GazetteerFile(BaseModel):
    """The gazetteer file: a list of entities."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entities: tuple[EntityEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class Entity:
    """A gazetteer entity with every surface form it is matched under."""

    id: str
    key: str
    name: str
    type: str
    forms: tuple[str, ...]
    """Name, aliases and demonym forms as written (a trailing `*` = word prefix)."""


def _demonym_forms(demonym: str) -> list[str]:
    """A demonym and its English plural ("North Korean" -> "North Koreans")."""
    forms = [demonym]
    last = demonym[-1:]
    if last.isascii() and last.isalpha() and not demonym.endswith(("s", "sh", "ch", "ese", "*")):
        forms.append(demonym + "s")
    return forms


def _check_form(form: str) -> str | None:
    """Why a surface form cannot be matched, or None if it can."""
    body = form[:-1] if form.endswith("*") else form
    if not fold_term(body):
        return "empty alias" if not form.strip() else f"alias {form!r} has no letters left to match"
    if "*" in body or "?" in body:
        return f"alias {form!r}: only a trailing * (word prefix) is supported"
    if form.endswith("*") and not is_word_char(fold_term(body)[-1]):
        return f"alias {form!r}: a * must follow a letter or digit"
    return None


class Gazetteer:
    """Entities by id and key, validated; build with `from_entries` or `load`."""

    def __init__(self, entities: Sequence[Entity]) -> None:
        self.entities: tuple[Entity, ...] = tuple(entities)
        self._by_ref: dict[str, int] = {}
        for i, e in enumerate(self.entities):
            self._by_ref.setdefault(e.id.casefold(), i)
            self._by_ref.setdefault(e.key.casefold(), i)
            self._by_ref.setdefault(e.name.casefold(), i)

    def __len__(self) -> int:
        return len(self.entities)

    def find(self, ref: str) -> int | None:
        """Index of the entity with this id, key or name (case-insensitive), or None."""
        return self._by_ref.get(ref.casefold())

    @classmethod
    def from_entries(cls, data: Mapping[str, Any], file: str) -> Gazetteer:
        """Validate parsed gazetteer data; every problem is reported at once."""
        try:
            parsed = GazetteerFile.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(problems_from(exc, file)) from None
        problems: list[ConfigProblem] = []
        entities: list[Entity] = []
        seen: dict[str, str] = {}
        for i, entry in enumerate(parsed.entities):
            # A name with no Latin letters slugifies to nothing: fall back to the id.
            key = entry.key or slugify(entry.name) or entry.id
            where = f"entities.{i} ({entry.id})"
            for ref in dict.fromkeys((entry.id.casefold(), key.casefold())):
                if ref in seen:
                    problems.append(
                        ConfigProblem(
                            file=file, key=where, reason=f"{ref!r} already names {seen[ref]}"
                        )
                    )
                seen.setdefault(ref, f"entity {entry.id}")
            forms = [entry.name, *entry.aliases]
            for d in entry.demonyms:
                forms.extend(_demonym_forms(d) if d.strip() else [d])
            for j, form in enumerate(forms):
                reason = _check_form(form)
                if reason is not None:
                    field = "name" if j == 0 else f"aliases/demonyms[{j - 1}]"
                    problems.append(ConfigProblem(file=file, key=f"{where}.{field}", reason=reason))
            entities.append(Entity(entry.id, key, entry.name, entry.type, tuple(forms)))
        if problems:
            raise ConfigError(problems)
        return cls(entities)

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        """Read and validate a gazetteer YAML file."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                [ConfigProblem(file=str(path), key="-", reason="file not found")]
            ) from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            reason = f"cannot read gazetteer: {exc}"
            raise ConfigError([ConfigProblem(file=str(path), key="-", reason=reason)]) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            reason = "the top level must be a mapping with an `entities` list"
            raise ConfigError([ConfigProblem(file=str(path), key="-", reason=reason)])
        return cls.from_entries(data, str(path))


class Kind(IntEnum):
    """What a pattern in the automaton stands for."""

    ENTITY = 0
    TERM = 1


@dataclass(frozen=True, slots=True)
class Pattern:
    """One thing to find: a normalised string, and what it belongs to."""

    text: str
    prefix: bool
    kind: Kind
    owner: int
    """Entity index for ENTITY, rule-term index for TERM."""


@dataclass(frozen=True, slots=True)
class Match:
    """A pattern found on word boundaries: span in the normalised text."""

    start: int
    end: int
    kind: Kind
    owner: int


def pattern_of(form: str, kind: Kind, owner: int) -> Pattern:
    """Make a pattern from an alias or term as written (a trailing `*` = prefix)."""
    prefix = form.endswith("*")
    return Pattern(fold_term(form[:-1] if prefix else form), prefix, kind, owner)


class Matcher:
    """An Aho-Corasick automaton over normalised patterns, with word-boundary checks."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        grouped: dict[str, list[tuple[bool, Kind, int]]] = {}
        for p in patterns:
            slot = grouped.setdefault(p.text, [])
            if (p.prefix, p.kind, p.owner) not in slot:
                slot.append((p.prefix, p.kind, p.owner))
        self.size = len(grouped)
        self._automaton: Any = ahocorasick.Automaton()
        for text, payloads in grouped.items():
            # Whether the pattern's own edges are word characters decides if a
            # boundary is needed there ("-pro" needs none on its left).
            self._automaton.add_word(
                text, (len(text), is_word_char(text[0]), is_word_char(text[-1]), tuple(payloads))
            )
        if grouped:
            self._automaton.make_automaton()

    def find(self, norm: Normalized) -> list[Match]:
        """Every match on word boundaries; prefix patterns run to the end of the word."""
        if self.size == 0:
            return []
        text = norm.text
        n = len(text)
        out: list[Match] = []
        for last, (length, word_start, word_end, payloads) in self._automaton.iter(text):
            start = last - length + 1
            if word_start and start > 0 and is_word_char(text[start - 1]):
                continue
            after = last + 1
            closed = not word_end or after >= n or not is_word_char(text[after])
            extended = after
            for prefix, kind, owner in payloads:
                if prefix:
                    if extended == after:
                        while extended < n and is_word_char(text[extended]):
                            extended += 1
                    out.append(Match(start, extended, kind, owner))
                elif closed:
                    out.append(Match(start, after, kind, owner))
        return out


def leftmost_longest(matches: Iterable[Match]) -> list[Match]:
    """Keep non-overlapping matches, preferring the earliest then the longest (ties: all)."""
    chosen: list[Match] = []
    reach = -1
    for m in sorted(matches, key=lambda m: (m.start, m.start - m.end, m.owner)):
        if m.start >= reach:
            chosen.append(m)
            reach = m.end
        elif (m.start, m.end) == (chosen[-1].start, chosen[-1].end) and m != chosen[-1]:
            # The same words are an alias of two entities: report both, let rules decide.
            chosen.append(m)
    return chosen
