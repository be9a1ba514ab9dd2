"""A rule node's verdict on one article, compiled once when the node is built.

`rules.holds` asks a node whether it holds for what was found in an article; each
node carries the function that answers, made here from its children's, so an
article's verdict is a few calls, not a walk of the tree. An OR group's leaves of one
scope are one set intersection with what was found (a group of 17 synonyms is one
test, not 17).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import repeat
from operator import call

from monitor.filters.gazetteer import Kind

Found = Mapping[tuple[Kind, int], Mapping[str, str]]
"""What one article holds: (kind, owner) -> {field: first surface found there}."""
Test = Callable[[Found], bool]
"""A node's verdict on an article."""
Key = tuple[Kind, int]


def leaf_test(key: Key, fields: tuple[str, ...]) -> Test:
    """Found in one of `fields`."""
    if len(fields) == 1:
        (only,) = fields

        def in_field(found: Found) -> bool:
            where = found.get(key)
            return where is not None and only in where

        return in_field

    if len(fields) == 2:
        first, second = fields

        def in_either(found: Found) -> bool:
            where = found.get(key)
            return where is not None and (first in where or second in where)

        return in_either

    def in_fields(found: Found) -> bool:
        where = found.get(key)
        return where is not None and any(f in where for f in fields)

    return in_fields


def all_test(tests: tuple[Test, ...]) -> Test:
    """Every test holds (AND)."""

    def every(found: Found) -> bool:
        return all(map(call, tests, repeat(found)))  # in C, stops at the first False

    return every


def any_test(leaves: Iterable[tuple[Key, tuple[str, ...]]], others: Iterable[Test]) -> Test:
    """At least one holds (OR): the leaves (key, fields), checked together per scope, or
    one of the `others`."""
    scopes: dict[tuple[str, ...], set[Key]] = {}
    for key, fields in leaves:
        scopes.setdefault(fields, set()).add(key)
    tests = [*(_keys_test(frozenset(keys), fields) for fields, keys in scopes.items()), *others]
    return tests[0] if len(tests) == 1 else _some_test(tuple(tests))


def not_test(test: Test) -> Test:
    """The test does not hold (NOT)."""

    def negated(found: Found) -> bool:
        return not test(found)

    return negated


def _keys_test(keys: frozenset[Key], fields: tuple[str, ...]) -> Test:
    def any_key(found: Found) -> bool:
        # Usually nothing or one key of the group was found: the loop is short.
        for key in keys.intersection(found):
            where = found[key]
            for f in fields:
                if f in where:
                    return True
        return False

    return any_key


def _some_test(tests: tuple[Test, ...]) -> Test:
    def some(found: Found) -> bool:
        return any(map(call, tests, repeat(found)))  # in C, stops at the first True

    return some
