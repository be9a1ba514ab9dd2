"""The fast precise pass: trafilatura's steps for its precision preset, less dead prunes.

`bare_extraction(tree, fast=True, favor_precision=True, include_comments=False)` runs
three XPath prunes before and after cleaning the tree: infinite-scroll and share-button
containers, then comment sections (twice). Each walks the whole page with a regular
expression per `id` and `class` attribute, ~1.5-2.5 ms a page together about a third of
the pass, and on most pages finds nothing. Every one of them needs a literal in an `id`
or `class` value (`infinite`, `omment`, ...): `precise_text` runs the same steps in the
same order (trafilatura 2.3's `bare_extraction` and `trafilatura_sequence` for this
preset) and skips a prune whose literals are nowhere in the page's source.

A class name spelt with character references (`infinite&#45;scroll`) is not seen in the
source, so that one container stays, as it would under any other class name.
`tests/clean/test_clean_precise.py` checks the text against `bare_extraction`'s on pages
that reach every prune; `scripts/eval_extraction.py --precise` on the development pages.
"""

from __future__ import annotations

from copy import copy
from typing import Any

SCROLL_LITERALS = ("mvp-post-add-", "infinite", "elementor-share-buttons")
"""One of these is in every `id`/`class` trafilatura's RAW_TREE_PRUNE_XPATH matches
(`mvp-post-add-(?:box|wrap)|infinite-?scroll`, `elementor-share-buttons`)."""
COMMENT_LITERALS = ("omment", "comol", "disqus_thread")
"""One of these is in every `id`/`class` REMOVE_COMMENTS(_AND_LISTS)_XPATH matches
(`[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments`, `(?:article|post)-comments`)."""


def may_match(html: str, literals: tuple[str, ...]) -> bool:
    """Whether any of `literals` occurs in the page's source (case as written)."""
    return any(literal in html for literal in literals)


def extractor(url: str | None, include_tables: bool) -> Any:
    """The options `bare_extraction` builds for the fast precise pass."""
    from trafilatura.settings import Extractor

    return Extractor(
        output_format="python",
        fast=True,
        precision=True,
        comments=False,
        tables=include_tables,
        url=url,
    )


def precise_text(tree: Any, html: str, url: str | None, include_tables: bool) -> str | None:
    """The text of `bare_extraction(tree, url=url, fast=True, favor_precision=True,
    include_comments=False, include_tables=...)`, or None where it returns None."""
    from trafilatura.core import _forum_thread_page
    from trafilatura.htmlprocessing import convert_tags, prune_unwanted_nodes, tree_cleaning
    from trafilatura.main_extractor import extract_content
    from trafilatura.xml import xmltotxt
    from trafilatura.xpaths import (
        RAW_TREE_PRUNE_XPATH,
        REMOVE_COMMENTS_AND_LISTS_XPATH,
        REMOVE_COMMENTS_XPATH,
    )

    options = extractor(url, include_tables)
    comments = may_match(html, COMMENT_LITERALS)
    try:
        tree = copy(tree)  # bare_extraction works on a copy of a tree it is given
        is_forum = _forum_thread_page(tree)
        if may_match(html, SCROLL_LITERALS):
            tree = prune_unwanted_nodes(tree, RAW_TREE_PRUNE_XPATH)
        if comments:
            tree = prune_unwanted_nodes(tree, REMOVE_COMMENTS_AND_LISTS_XPATH)
        # _prepare_tree, less the backup copy only the comparison (not fast) reads
        cleaned = convert_tags(tree_cleaning(copy(tree), options), options, options.url)
        if comments and not is_forum:
            cleaned = prune_unwanted_nodes(cleaned, REMOVE_COMMENTS_XPATH)
        body, text = extract_content(cleaned, options)
        # The precision preset skips the baseline rescue and the recall escalation.
        if options.max_tree_size and len(body) > options.max_tree_size:
            from lxml.etree import strip_tags

            strip_tags(body, "hi")
            if len(body) > options.max_tree_size:
                raise ValueError
        if len(text) < options.min_output_size and options.min_output_comm_size > 0:
            raise ValueError
    except (TypeError, ValueError):  # what bare_extraction turns into "no result"
        return None
    result: str = xmltotxt(body, options.formatting)
    return result
