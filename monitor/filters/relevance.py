"""The relevance verdict: scan title and text once, find entities, evaluate every rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from monitor.config import ConfigError, ConfigProblem, FilterSettings, resolve_data
from monitor.filters.gazetteer import (
    Gazetteer,
    Kind,
    Matcher,
    Pattern,
    leftmost_longest,
    pattern_of,
)
from monitor.filters.normalize import fold_for_match
from monitor.filters.rules import (
    Rule,
    RuleCompileError,
    RuleCompiler,
    evaluate,
    render,
    required,
)
from monitor.model import PASS_ALL, Article, EntityHit, Relevance

DISABLED_REASON = "filters disabled (filters.enabled: false): everything passes"


class RelevanceFilter:
    """Decides whether an article is relevant and says why; pure after construction."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        rules: Sequence[Rule] = (),
        term_patterns: Sequence[Pattern] = (),
        enabled: bool = True,
    ) -> None:
        self.gazetteer = gazetteer
        self.rules = tuple(rules)
        self.enabled = enabled
        entity_patterns = (
            pattern_of(form, Kind.ENTITY, i)
            for i, entity in enumerate(gazetteer.entities)
            for form in entity.forms
        )
        self._matcher = Matcher([*entity_patterns, *term_patterns])
        self._terms = {p.owner: p for p in term_patterns}
        # What each rule needs, as explanations write it: the same for every item.
        # A tuple beside `rules` (not keyed by id(): ids change when a filter is pickled).
        self._needs = tuple(render(rule.tree) for rule in self.rules)

    @classmethod
    def from_settings(
        cls, settings: FilterSettings, config_dir: Path, config_file: str
    ) -> RelevanceFilter:
        """Load the gazetteer and compile the rules; raise `ConfigError` with every problem."""
        problems: list[ConfigProblem] = []
        gazetteer = Gazetteer(())
        gazetteer_ok = True
        if settings.gazetteer is not None:
            path = resolve_data(settings.gazetteer, config_dir)
            try:
                gazetteer = Gazetteer.load(path)
            except ConfigError as exc:
                problems.extend(exc.problems)
                gazetteer_ok = False
        compiler = RuleCompiler(gazetteer, check_entities=gazetteer_ok)
        rules: list[Rule] = []
        first_index: dict[str, int] = {}
        for i, spec in enumerate(settings.rules):
            if spec.name in first_index:
                first = first_index[spec.name]
                reason = f"duplicate rule name {spec.name!r} (first at filters.rules.{first})"
                problems.append(
                    ConfigProblem(file=config_file, key=f"filters.rules.{i}.name", reason=reason)
                )
            first_index.setdefault(spec.name, i)
            try:
                rules.append(compiler.compile(spec.name, spec.query, spec.tags, spec.topic))
            except RuleCompileError as exc:
                problems.extend(
                    ConfigProblem(
                        file=config_file,
                        key=f"filters.rules.{i}.query",
                        reason=f"rule {spec.name!r}: {r}",
                    )
                    for r in exc.reasons
                )
        if problems:
            raise ConfigError(problems)
        return cls(gazetteer, rules, compiler.patterns, enabled=settings.enabled)

    def topic_forms(self) -> tuple[str, ...]:
        """The words every relevant item holds: the forms of each entity, and each
        keyword (normalised, a trailing `*` for a word prefix), that every match of
        every rule requires (an AND's parts, not an OR's alternatives or what is under a
        NOT). Empty when the filters are off or have no rules (every item passes)."""
        if not self.enabled or not self.rules:
            return ()
        leaves = frozenset.intersection(*(required(rule.tree) for rule in self.rules))
        forms: dict[str, None] = {}
        # Sorted: a set's order is not stable across processes.
        for kind, owner in sorted(leaves):
            if kind is Kind.ENTITY:
                forms.update(dict.fromkeys(self.gazetteer.entities[owner].forms))
            else:
                term = self._terms[owner]
                forms[term.text + ("*" if term.prefix else "")] = None
        return tuple(forms)

    def _scan(
        self, article: Article
    ) -> tuple[tuple[EntityHit, ...], dict[tuple[Kind, int], dict[str, str]]]:
        """Find every entity and rule term in title and text, with surfaces as written."""
        found: dict[tuple[Kind, int], dict[str, str]] = {}
        counts: dict[tuple[int, str, str], int] = {}  # insertion order = first seen
        for field, value in (("title", article.title), ("text", article.text)):
            if not value:
                continue
            norm = fold_for_match(value)
            matches = self._matcher.find(norm)
            terms = [m for m in matches if m.kind is Kind.TERM]
            entities = leftmost_longest(m for m in matches if m.kind is Kind.ENTITY)
            for m in sorted([*entities, *terms], key=lambda m: m.start):
                start, end = norm.span(m.start, m.end)
                # A name broken across lines is still the same surface form.
                surface = " ".join(value[start:end].split())
                found.setdefault((m.kind, m.owner), {}).setdefault(field, surface)
                if m.kind is Kind.ENTITY:
                    key = (m.owner, surface, field)
                    counts[key] = counts.get(key, 0) + 1
        hits = []
        for (owner, surface, field), count in counts.items():
            e = self.gazetteer.entities[owner]
            hits.append(
                EntityHit(
                    id=e.id, name=e.name, type=e.type, surface=surface, field=field, count=count
                )
            )
        return tuple(hits), found

    def find_entities(self, article: Article) -> tuple[EntityHit, ...]:
        """Every gazetteer entity in the article: one hit per entity, surface and field."""
        return self._scan(article)[0]

    def evaluate(self, article: Article) -> Relevance:
        """Judge one article against every rule; the reason says which rule matched and why."""
        entities, found = self._scan(article)
        if not self.enabled:
            return Relevance(relevant=True, entities=entities, reason=DISABLED_REASON)
        if not self.rules:
            return replace(PASS_ALL, entities=entities)
        matched: list[Rule] = []
        because: list[str] = []
        missing: list[str] = []
        for rule, needs in zip(self.rules, self._needs, strict=True):
            ok, detail = evaluate(rule.tree, found)
            if ok:
                matched.append(rule)
                because.append(f"rule {rule.name!r} matched: {'; '.join(detail) or rule.query}")
            else:
                missing.append(f"rule {rule.name!r} needs {needs}; missing {'; '.join(detail)}")
        if not matched:
            return Relevance(
                relevant=False, entities=entities, reason="no rule matched: " + " | ".join(missing)
            )
        return Relevance(
            relevant=True,
            rules=tuple(r.name for r in matched),
            tags=tuple(dict.fromkeys(t for r in matched for t in r.tags)),
            topics=tuple(dict.fromkeys(r.topic for r in matched if r.topic)),
            entities=entities,
            reason=" | ".join(because),
        )
