"""trafilatura's main-text passes on one pruned copy of the page, less dead prunes.

`bare_extraction(tree, include_comments=False, ...)` copies the tree and prunes the copy
with two XPath expressions (infinite-scroll and share-button containers, then comment
sections; the precision preset prunes comment sections once more after cleaning) before
it extracts. Each walks the whole page with a regular expression per `id` and `class`
attribute: ~2-2.5 ms a page each, the same for every pass over the page, and on many
pages they find nothing. Here the pruned copy is made once per page (`prune`) and every
pass starts from it (`text`), the precise and the default preset alike (they prune the
raw tree alike, except on a forum page, where the default keeps comment sections: that
pass then runs `bare_extraction` itself). A prune whose expressions need a literal
(`infinite`, `omment`, ...) that is nowhere in the page's source is skipped.

The steps after the prunes are trafilatura 2.3's (`bare_extraction` and
`trafilatura_sequence` with comments off, no deduplication, no language filter), in the
same order, on its own internal functions (the minor version is pinned). A class name
spelt with character references (`infinite&#45;scroll`) is not seen in the source, so
that one container stays, as it would under any other class name.
`tests/clean/test_clean_passes.py` checks each pass's text against `bare_extraction`'s
on written pages that reach every prune; `scripts/eval_extraction.py --passes` on the
development pages (no difference on all 1,120).
"""

from __future__ import annotations

import contextlib
from copy import copy
from dataclasses import dataclass
from typing import Any

SCROLL_LITERALS = ("mvp-post-add-", "infinite", "elementor-share-buttons")
"""One of these is in every `id`/`class` trafilatura's RAW_TREE_PRUNE_XPATH matches
(`mvp-post-add-(?:box|wrap)|infinite-?scroll`, `elementor-share-buttons`)."""
COMMENT_LITERALS = ("omment", "comol", "disqus_thread")
"""One of these is in every `id`/`class` REMOVE_COMMENTS(_AND_LISTS)_XPATH matches
(`[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments`, `(?:article|post)-comments`)."""


@dataclass(frozen=True, slots=True)
class Pruned:
    """A page's tree as trafilatura's passes prune it before extracting (comments off)."""

    raw: Any
    """The tree as parsed (left untouched)."""
    tree: Any
    """A pruned copy: infinite-scroll containers and comment sections removed."""
    is_forum: bool
    """A thread-forum page: the default preset keeps its comment sections (posts)."""
    comments: bool
    """Whether the source names a comment section at all (else its prunes are skipped)."""


def may_match(html: str, literals: tuple[str, ...]) -> bool:
    """Whether any of `literals` occurs in the page's source (case as written)."""
    return any(literal in html for literal in literals)


def prune(raw: Any, html: str) -> Pruned:
    """Copy the parsed page and prune the copy as every pass of `text` expects it."""
    from trafilatura.core import _forum_thread_page
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH

    tree = copy(raw)
    is_forum = _forum_thread_page(tree)
    comments = may_match(html, COMMENT_LITERALS)
    if may_match(html, SCROLL_LITERALS):
        tree = prune_unwanted_nodes(tree, RAW_TREE_PRUNE_XPATH)
    if comments:
        tree = prune_unwanted_nodes(tree, REMOVE_COMMENTS_AND_LISTS_XPATH)
    return Pruned(raw, tree, is_forum, comments)


def extractor(url: str | None, precise: bool, fast: bool, include_tables: bool) -> Any:
    """The options `bare_extraction` builds for one pass (python output, no comments)."""
    from trafilatura.settings import Extractor

    return Extractor(
        output_format="python",
        fast=fast,
        precision=precise,
        comments=False,
        tables=include_tables,
        url=url,
    )


def text(
    page: Pruned, url: str | None, precise: bool, fast: bool, include_tables: bool
) -> str | None:
    """The text of `bare_extraction(raw, url=url, fast=fast, favor_precision=precise,
    include_comments=False, include_tables=include_tables)`; None where it returns None."""
    if page.is_forum and not precise:
        import trafilatura

        doc = trafilatura.bare_extraction(
            page.raw,
            url=url,
            fast=fast,
            with_metadata=False,
            include_comments=False,
            include_tables=include_tables,
        )
        found = getattr(doc, "text", None) if doc is not None else None
        return None if found is None else str(found)
    from trafilatura.core import _extract_and_compare
    from trafilatura.htmlprocessing import convert_tags, prune_unwanted_nodes, tree_cleaning
    from trafilatura.xml import xmltotxt
    from trafilatura.xpaths import REMOVE_COMMENTS_XPATH

    options = extractor(url, precise, fast, include_tables)
    try:
        cleaned = tree_cleaning(copy(page.tree), options)
        backup = None if fast else copy(cleaned)  # read by the comparison only
        cleaned = convert_tags(cleaned, options, url)
        if precise and page.comments and not page.is_forum:
            cleaned = prune_unwanted_nodes(cleaned, REMOVE_COMMENTS_XPATH)
        body, found = _extract_and_compare(cleaned, backup, page.tree, options)
        if not precise:
            body, found = _rescue(page.tree, options, url, body, found)
        if options.max_tree_size and len(body) > options.max_tree_size:
            from lxml.etree import strip_tags

            strip_tags(body, "hi")
            if len(body) > options.max_tree_size:
                raise ValueError
        if len(found) < options.min_output_size and options.min_output_comm_size > 0:
            raise ValueError
    except (TypeError, ValueError):  # what bare_extraction turns into "no result"
        return None
    result: str = xmltotxt(body, options.formatting)
    return result


def _rescue(tree: Any, options: Any, url: str | None, body: Any, found: str) -> tuple[Any, str]:
    """The default preset's baseline rescue and recall escalation (`trafilatura_sequence`)."""
    from trafilatura.baseline import baseline, html2txt
    from trafilatura.core import (
        ESCALATION_ACCEPT_RATIO,
        ESCALATION_JUSTEXT_RATIO,
        ESCALATION_MAX_LENGTH,
        ESCALATION_PAGE_SHARE,
        _recall_retry,
    )
    from trafilatura.external import justext_rescue

    if len(found) < options.min_extracted_size:
        b_body, b_text, b_len = baseline(tree)  # baseline copies element inputs
        if b_len > len(found):
            body, found = b_body, b_text
    if not (
        0 < len(found) < ESCALATION_MAX_LENGTH
        and len(found) < ESCALATION_PAGE_SHARE * len(html2txt(tree))
    ):
        return body, found
    r_options = copy(options)
    r_options.focus = "recall"
    r_body, r_text, j_body, j_text = None, "", None, ""
    with contextlib.suppress(Exception):  # as trafilatura: a failed retry is no candidate
        r_body, r_text = _recall_retry(tree, r_options, url)
    if not options.fast:
        with contextlib.suppress(Exception):
            j_body, j_text = justext_rescue(copy(tree), options)
    if len(j_text) > len(r_text) and len(j_text) > ESCALATION_JUSTEXT_RATIO * len(found):
        return j_body, j_text
    if len(r_text) >= options.min_extracted_size and len(r_text) > ESCALATION_ACCEPT_RATIO * len(
        found
    ):
        return r_body, r_text
    return body, found
