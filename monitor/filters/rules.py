"""Boolean relevance rules: Lucene-style queries compiled to a small tree, and why they match.

Syntax (parsed by luqum): `AND`, `OR`, `NOT` (upper case), parentheses,
`"quoted phrases"`, trailing prefix wildcards (`sanction*`), field scopes
`title:` and `text:` (default: either), and entity conditions
`entity:north-korea` / `entity:Q423` / `entity:"North Korea"` (key, id or
name from the gazetteer), and `rule:NAME` for an earlier rule, so a tagging
rule can refine a full one without copying it. Anything else luqum accepts (fuzzy `~`, ranges,
regexes, boosts, `+`/`-`, implicit operators) is refused at start, so what a
rule means is never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from luqum import tree
from luqum.exceptions import IllegalCharacterError, ParseError
from luqum.parser import parser

from monitor.filters.gazetteer import Gazetteer, Kind, Pattern, pattern_of
from monitor.filters.normalize import fold_term, is_word_char
from monitor.filters.verdicts import Found, Test, all_test, any_test, leaf_test, not_test

FIELDS = ("title", "text")
ENTITY_FIELD = "entity"
RULE_FIELD = "rule"


@dataclass(frozen=True, slots=True)
class Leaf:
    """A keyword, phrase or entity that must be found in some fields."""

    kind: Kind
    owner: int
    fields: tuple[str, ...]
    label: str
    test: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", leaf_test((self.kind, self.owner), self.fields))

    def __reduce__(self) -> tuple[Any, ...]:
        return Leaf, (self.kind, self.owner, self.fields, self.label)  # `test` is rebuilt


@dataclass(frozen=True, slots=True)
class AllOf:
    """AND: every child holds."""

    children: tuple[Node, ...]
    test: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", all_test(tuple(c.test for c in self.children)))

    def __reduce__(self) -> tuple[Any, ...]:
        return AllOf, (self.children,)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """OR: at least one child holds."""

    children: tuple[Node, ...]
    test: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        leaves = [((c.kind, c.owner), c.fields) for c in self.children if isinstance(c, Leaf)]
        others = [c.test for c in self.children if not isinstance(c, Leaf)]
        object.__setattr__(self, "test", any_test(leaves, others))

    def __reduce__(self) -> tuple[Any, ...]:
        return AnyOf, (self.children,)


@dataclass(frozen=True, slots=True)
class Negation:
    """NOT: the child does not hold."""

    child: Node
    test: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", not_test(self.child.test))

    def __reduce__(self) -> tuple[Any, ...]:
        return Negation, (self.child,)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """`rule:NAME`: an earlier rule holds (explained by name, not by its parts)."""

    name: str
    child: Node
    test: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", self.child.test)

    def __reduce__(self) -> tuple[Any, ...]:
        return RuleRef, (self.name, self.child)


Node = Leaf | AllOf | AnyOf | Negation | RuleRef


@dataclass(frozen=True, slots=True)
class Rule:
    """A named, compiled rule; matching it tags the item and may route it to a topic."""

    name: str
    query: str
    tree: Node
    tags: tuple[str, ...] = ()
    topic: str | None = None


class RuleCompileError(Exception):
    """A rule that cannot be used; carries every reason found in it."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


def paren_problem(query: str) -> str | None:
    """Describe unbalanced parentheses outside quotes, or None if balanced."""
    open_at: list[int] = []
    quoted = escaped = False
    for i, ch in enumerate(query):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            open_at.append(i)
        elif ch == ")":
            if not open_at:
                return f"unbalanced parentheses: ')' at position {i} has no matching '('"
            open_at.pop()
    if open_at:
        return f"unbalanced parentheses: '(' at position {open_at[-1]} is never closed"
    if quoted:
        return "unbalanced quotes: a phrase is never closed"
    return None


@dataclass
class RuleCompiler:
    """Compiles rule queries against one gazetteer; collects the keyword patterns."""

    gazetteer: Gazetteer
    check_entities: bool = True
    """False when the gazetteer failed to load: its problem is reported, not one per rule."""
    patterns: list[Pattern] = field(default_factory=list)
    _term_ids: dict[tuple[str, bool], int] = field(default_factory=dict)
    _rules: dict[str, Node] = field(default_factory=dict)

    def compile(
        self, name: str, query: str, tags: tuple[str, ...] = (), topic: str | None = None
    ) -> Rule:
        """Parse and check one rule; raise `RuleCompileError` with every reason found."""
        if not query.strip():
            raise RuleCompileError(["empty query"])
        problem = paren_problem(query)
        if problem is not None:
            raise RuleCompileError([problem])
        try:
            parsed = parser.parse(query)
        except (ParseError, IllegalCharacterError) as exc:
            raise RuleCompileError([f"syntax error: {exc}"]) from None
        reasons: list[str] = []
        node = self._node(parsed, FIELDS, entity=False, reasons=reasons)
        if reasons:
            raise RuleCompileError(reasons)
        self._rules.setdefault(name, node)
        return Rule(name=name, query=" ".join(query.split()), tree=node, tags=tags, topic=topic)

    def _term(self, text: str, prefix: bool) -> int:
        key = (fold_term(text), prefix)
        if key not in self._term_ids:
            self._term_ids[key] = len(self._term_ids)
            self.patterns.append(
                pattern_of(text + ("*" if prefix else ""), Kind.TERM, self._term_ids[key])
            )
        return self._term_ids[key]

    def _node(
        self, item: tree.Item, fields: tuple[str, ...], entity: bool, reasons: list[str]
    ) -> Node:
        # Dispatch on luqum's node classes; every unsupported one gets a reason.
        if isinstance(item, tree.AndOperation):
            return AllOf(tuple(self._node(c, fields, entity, reasons) for c in item.operands))
        if isinstance(item, tree.OrOperation):
            return AnyOf(tuple(self._node(c, fields, entity, reasons) for c in item.operands))
        if isinstance(item, tree.Not):
            return Negation(self._node(item.a, fields, entity, reasons))
        if isinstance(item, tree.BaseGroup):
            return self._node(item.expr, fields, entity, reasons)
        if isinstance(item, tree.SearchField):
            return self._field(item, fields, entity, reasons)
        if isinstance(item, tree.Word | tree.Phrase):
            return self._leaf(item, fields, entity, reasons)
        reasons.append(_unsupported(item))
        return AllOf(())

    def _field(
        self, item: tree.SearchField, fields: tuple[str, ...], entity: bool, reasons: list[str]
    ) -> Node:
        name = item.name.lower()
        if name == RULE_FIELD:
            if fields != FIELDS or entity:
                # A rule is judged on the whole article; a scope would be silently ignored.
                reasons.append(f"{item} cannot be scoped by title:, text: or entity:")
                return AllOf(())
            return self._rule_ref(item.expr, reasons)
        if name == ENTITY_FIELD:
            return self._node(item.expr, fields, True, reasons)
        if name in FIELDS:
            return self._node(item.expr, (name,), entity, reasons)
        reasons.append(f"unknown field {item.name!r}: use title:, text:, entity: or rule:")
        return AllOf(())

    def _rule_ref(self, item: tree.Item, reasons: list[str]) -> Node:
        if not isinstance(item, tree.Word | tree.Phrase):
            reasons.append(f"rule:{item} must name one rule")
            return AllOf(())
        name = item.value[1:-1] if isinstance(item, tree.Phrase) else item.value
        if name not in self._rules:
            # Only earlier rules: no cycles, and the config reads top to bottom.
            reasons.append(f"unknown rule {name!r}: rule: must name a valid rule defined above")
            return AllOf(())
        return RuleRef(name, self._rules[name])

    def _leaf(
        self,
        item: tree.Word | tree.Phrase,
        fields: tuple[str, ...],
        entity: bool,
        reasons: list[str],
    ) -> Node:
        phrase = isinstance(item, tree.Phrase)
        value = item.value[1:-1] if phrase else item.value
        scope = "" if fields == FIELDS else f"{fields[0]}:"
        if entity:
            index = self.gazetteer.find(value)
            if index is None and not self.check_entities:
                return AllOf(())
            if index is None:
                reasons.append(f"unknown entity {value!r}: not an id, key or name in the gazetteer")
                return AllOf(())
            key = self.gazetteer.entities[index].key
            return Leaf(Kind.ENTITY, index, fields, f"{scope}entity:{key}")
        prefix = not phrase and value.endswith("*")
        body = value[:-1] if prefix else value
        if not phrase and ("*" in body or "?" in body):
            reasons.append(f"wildcard in {value!r}: only a trailing * (word prefix) is supported")
            return AllOf(())
        norm = fold_term(body)
        if not norm:
            reasons.append(f"empty term {item.value!r}")
            return AllOf(())
        if prefix and not is_word_char(norm[-1]):
            reasons.append(f"wildcard in {value!r}: a * must follow a letter or digit")
            return AllOf(())
        return Leaf(Kind.TERM, self._term(body, prefix), fields, f"{scope}{item.value}")


def _unsupported(item: tree.Item) -> str:
    if isinstance(item, tree.UnknownOperation):
        return (
            f"implicit operator in {str(item)!r}: write AND or OR between terms (and quote phrases)"
        )
    if isinstance(item, tree.Prohibit | tree.Plus):
        return f"{str(item)!r}: +/- prefixes are not supported, use AND / NOT"
    return (
        f"{type(item).__name__} {str(item)!r} is not supported (use words, phrases, AND, OR, NOT)"
    )


def holds(node: Node, found: Found) -> bool:
    """Whether a rule tree holds (the verdict of `evaluate`, without the evidence)."""
    return node.test(found)


def required(node: Node) -> frozenset[tuple[Kind, int]]:
    """What every match of `node` holds, as (kind, owner) of its leaves, whatever the
    fields or the spelling of a leaf: each part of an AND, what all the alternatives of
    an OR share, nothing under a NOT; `rule:` followed."""
    if isinstance(node, Leaf):
        return frozenset([(node.kind, node.owner)])
    if isinstance(node, AllOf):
        return frozenset().union(*map(required, node.children))
    if isinstance(node, AnyOf):
        if not node.children:
            return frozenset()
        return frozenset.intersection(*map(required, node.children))
    if isinstance(node, Negation):
        return frozenset()
    return required(node.child)


def evaluate(node: Node, found: Found) -> tuple[bool, list[str]]:
    """Evaluate a rule tree; return the verdict and its evidence (or what was missing)."""
    # The evidence is written only for the branches it is reported from: the
    # verdicts of the others come from `holds` (most of an OR group is not found).
    if isinstance(node, Leaf):
        where = found.get((node.kind, node.owner), {})
        hits = [f for f in node.fields if f in where]
        if not hits:
            return False, [node.label]
        return True, [f'{node.label} ("{where[hits[0]]}" in {"/".join(hits)})']
    if isinstance(node, AllOf):
        verdicts = [holds(c, found) for c in node.children]
        ok = all(verdicts)
        details = [
            evaluate(c, found)[1] for c, v in zip(node.children, verdicts, strict=True) if v == ok
        ]
        return ok, [s for d in details for s in d]
    if isinstance(node, AnyOf):
        for child in node.children:
            if holds(child, found):
                # The first branch that holds is reason enough; listing every
                # synonym found would bury the explanation.
                return True, evaluate(child, found)[1]
        misses = [evaluate(child, found)[1] for child in node.children]
        return False, [_or_group([" AND ".join(m) for m in misses])]
    if isinstance(node, RuleRef):
        return holds(node.child, found), [f"rule:{node.name}"]
    if holds(node.child, found):
        detail = evaluate(node.child, found)[1]
        return False, [f"NOT {render(node.child, top=False)} (found {', '.join(detail)})"]
    return True, []


def render(node: Node, top: bool = True) -> str:
    """Write a compiled tree back as a readable query (long OR groups abbreviated)."""
    if isinstance(node, Leaf):
        return node.label
    if isinstance(node, Negation):
        return f"NOT {render(node.child, top=False)}"
    if isinstance(node, RuleRef):
        return f"rule:{node.name}"
    parts = [render(c, top=False) for c in node.children]
    if len(parts) == 1:
        return parts[0]
    if isinstance(node, AnyOf):
        return _or_group(parts)
    inner = " AND ".join(parts)
    return inner if top else f"({inner})"


BRIEF_OR = 4
"""Alternatives shown of a long OR group in explanations; the rest are counted."""


def _or_group(parts: list[str]) -> str:
    # A list of 17 synonyms would bury the explanation; the config has them all.
    if len(parts) > BRIEF_OR + 1:
        parts = [*parts[:BRIEF_OR], f"… +{len(parts) - BRIEF_OR} more"]
    return "(" + " OR ".join(parts) + ")"
