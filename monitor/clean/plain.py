"""Plain text out of feed titles and summaries: entities decoded, markup gone.

Feeds escape unevenly: a `type="html"` summary is markup, a `text` one may still carry
escaped markup (`&lt;div&gt;`), and some escape twice (reddit's `&amp;lt;!-- SC_OFF --&amp;gt;`,
titles with `&amp;#x0024;`). Each round here decodes one layer (entities, or markup to its
text with one line per block) until nothing looks like markup or an entity any more.
"""

from __future__ import annotations

import html
import re

from lxml.html import defs

from monitor.clean.html import fragment_text

MAX_ROUNDS = 4
"""Layers of escaping undone at most (real feeds use two)."""

_TAG = re.compile(r"<!--|<!\[CDATA\[|</?([A-Za-z][\w:-]*)(?:\s[^<>]*)?/?>")
"""What a browser would read as markup: a comment, CDATA, or a tag (of a known element)."""
_ELEMENTS = frozenset(defs.tags)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def looks_like_markup(value: str) -> bool:
    """Whether `value` holds HTML tags or comments (not a lone `<` as in `x < y`)."""
    return any(m.group(1) is None or m.group(1).lower() in _ELEMENTS for m in _TAG.finditer(value))


def plain_text(value: str, *, is_html: bool) -> str:
    """The text of a feed summary or content: one line per paragraph or block, no markup.

    `is_html`: the feed declared the value HTML; a value declared text is still read as
    HTML when it carries tags (escaped markup in a text element).
    """
    for _ in range(MAX_ROUNDS):
        if is_html or looks_like_markup(value):
            value = fragment_text(value)
        elif _ENTITY.search(value):
            value = html.unescape(value)
        else:
            break
        is_html = False
    lines = (" ".join(line.split()) for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def plain_title(value: str | None) -> str | None:
    """A title as one line of plain text (None if nothing is left)."""
    if value is None:
        return None
    text = " ".join(plain_text(value, is_html=False).split())
    return text or None
