"""A page's byline author: trafilatura's `extract_author` rules in one walk over the tree.

trafilatura copies the whole tree, deletes the discarded elements (comments, sidebars,
dates, figures, ...) from the copy, then runs three XPath expressions over it, each a
regular-expression callback into Python on every element. Here one walk over the parsed
tree (no copy) tests every element against the same rules, in Python, and keeps the
candidates of each of the three levels in document order; the first candidate (level by
level) whose text, without its discarded parts, is 3-119 characters long is the author,
normalised by trafilatura's `normalize_authors`, as there. The rules are copied from
`trafilatura.xpaths` (AUTHOR_XPATHS, AUTHOR_DISCARD_XPATHS; trafilatura 2.3);
`tests/clean/test_clean_byline.py` checks the answers against trafilatura's own function.
"""

from __future__ import annotations

import re
from typing import Any

_LEN_LIMIT = 120
"""trafilatura's limit for an author's text (exclusive)."""

# Discarded elements (AUTHOR_DISCARD_XPATHS): a, div, section or span under the root with
# these ids or classes, and every time and figure element.
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ID = re.compile(r"^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
    r"|article-(?:share|support)|print|category|meta-date|meta-reviewer"
)
_ALWAYS_DISCARDED = frozenset({"time", "figure"})

# AUTHOR_XPATHS[0]: specific markup.
_TAGS_0 = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_CLASS_0 = re.compile(r"author-?name|AuthorName|authorName")
# AUTHOR_XPATHS[1]: almost generic.
_TAGS_1 = frozenset({"a", "div", "h3", "h4", "p", "span"})
_CLASSES_1 = frozenset({"byline", "username", "byl", "BBL"})
_ID_1 = re.compile(r"author|zuozhe|bianji|xiaobian")
_CLASS_1 = re.compile(
    r"author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
# AUTHOR_XPATHS[2]: any element.
_ID_2 = re.compile(r"[Aa]uthor")
_CLASS_2 = re.compile(r"[Aa]uthor|screenname|writer|[Bb]yline")
# Any of the rules above: one search tells most classes and ids apart from the rest.
_ANY_CLASS = re.compile(
    "|".join(
        [r"^(?:comments|title|date|byline|username|byl|BBL)$"]
        + [p.pattern for p in (_DISCARD_CLASS, _CLASS_0, _CLASS_1, _CLASS_2)]
    )
)
_SPECIAL_TAGS = frozenset({"time", "figure", "author"})
_OTHER_ATTRIBUTES = frozenset({"itemprop", "rel", "data-testid", "data-component"})
_ANY_ID = re.compile("|".join(p.pattern for p in (_DISCARD_ID, _ID_1, _ID_2)))


def _discarded(el: Any, tag: str, cls: str | None, ident: str | None) -> bool:
    if tag in _ALWAYS_DISCARDED:
        return True
    if tag not in _DISCARD_TAGS:
        return False
    if cls is not None and (
        cls in ("comments", "title", "date") or _DISCARD_CLASS.search(cls) is not None
    ):
        return True
    if ident is not None and (ident == "comments" or _DISCARD_ID.search(ident) is not None):
        return True
    return "Figure" in (el.get("data-component") or "")


def _levels(el: Any, tag: str, cls: str | None, ident: str | None, rel_me: set[Any]) -> int:
    """Bit k set when `el` matches AUTHOR_XPATHS[k] (k = 0, 1, 2)."""
    itemprop = el.get("itemprop")
    author_prop = itemprop is not None and "author" in itemprop
    bits = 0
    if tag == "author" or (
        tag in _TAGS_0
        and (
            el.get("rel") == "author"
            or ident == "author"
            or cls == "author"
            or itemprop == "author name"
            or el in rel_me
            or el.get("data-testid") in ("AuthorCard", "AuthorURL")
            or (cls is not None and _CLASS_0.search(cls) is not None)
        )
    ):
        bits |= 1
    if tag in _TAGS_1 and (
        (cls is not None and (cls in _CLASSES_1 or _CLASS_1.search(cls) is not None))
        or author_prop
        or (ident is not None and _ID_1.search(ident) is not None)
    ):
        bits |= 2
    if (
        author_prop
        or "Byline" in (el.get("data-component") or "")
        or (ident is not None and _ID_2.search(ident) is not None)
        or (cls is not None and _CLASS_2.search(cls) is not None)
    ):
        bits |= 4
    return bits


def _subtree_end(el: Any) -> Any:
    """The node `tree.iter()` yields right after `el`'s subtree (None at the end)."""
    while el is not None:
        after = el.getnext()
        if after is not None:
            return after
        el = el.getparent()
    return None


def _text(el: Any, dropped: set[Any]) -> str:
    """`el`'s text as `" ".join(itertext())` gives it once the dropped elements inside it
    are deleted the way trafilatura deletes them: a deleted element's tail is glued to the
    text before it (its previous kept sibling's tail, else its parent's text)."""
    pieces: list[str] = []

    def walk(node: Any) -> None:
        glue = node.text or ""
        for child in node:
            if child in dropped:
                glue += child.tail or ""
                continue
            if glue:
                pieces.append(glue)
            if isinstance(child.tag, str):
                walk(child)
            glue = child.tail or ""
        if glue:
            pieces.append(glue)

    walk(el)
    return " ".join(" ".join(pieces).split())


def find_author(tree: Any) -> str | None:
    """trafilatura's `extract_author(tree)`, with one walk over the tree and no copy of it."""
    from trafilatura.json_metadata import normalize_authors

    rel_me = {r.getparent() for r in tree.iter("rel") if r.xpath("string()") == "me"}
    candidates: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    dropped: set[Any] = set()
    skip_to: Any = None  # while inside a dropped subtree: the node after it
    skipping = False
    for el in tree.iter():
        if skipping:
            if el is not skip_to:
                continue
            skipping = False
        tag = el.tag
        if not isinstance(tag, str):  # comments and processing instructions
            continue
        cls, ident = el.get("class"), el.get("id")
        if cls is not None and _ANY_CLASS.search(cls) is None:
            cls = None  # matches no rule: as if absent
        if ident is not None and _ANY_ID.search(ident) is None:
            ident = None
        if (
            cls is None
            and ident is None
            and tag not in _SPECIAL_TAGS
            and _OTHER_ATTRIBUTES.isdisjoint(el.keys())
            and el not in rel_me
        ):
            continue  # the common case: no rule can match this element
        if el is not tree and _discarded(el, tag, cls, ident):
            dropped.add(el)
            skip_to = _subtree_end(el)
            skipping = True
            if skip_to is None:
                break
            continue
        bits = _levels(el, tag, cls, ident, rel_me)
        for level in range(3):
            if bits & (1 << level):
                candidates[level].append(el)
    for found in candidates:
        for el in found:
            text = _text(el, dropped)
            if 2 < len(text) < _LEN_LIMIT:
                author: str | None = normalize_authors(None, text)
                return author
    return None
