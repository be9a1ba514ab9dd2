"""Each pass on the shared pruned tree gives `bare_extraction`'s text (dead prunes skipped)."""

from __future__ import annotations

import pytest
import trafilatura
from trafilatura.utils import load_html
from trafilatura.xpaths import (
    RAW_TREE_PRUNE_XPATH,
    REMOVE_COMMENTS_AND_LISTS_XPATH,
    REMOVE_COMMENTS_XPATH,
)

from monitor.clean.passes import COMMENT_LITERALS, SCROLL_LITERALS, may_match, prune, text

PARAGRAPHS = "".join(
    f"<p>Paragraph {n}: the council met on Tuesday and voted to repair the old bridge over "
    f"the river before the spring floods, officials said in their statement.</p>"
    for n in range(8)
)
APPENDED = "".join(
    f"<p>Next story {n}: a new bakery opened in the market square and sold out of its "
    f"bread before noon on the first day, its owners said.</p>"
    for n in range(6)
)
COMMENTS = "".join(
    f"<p>Reader {n} wrote: I drive over that bridge every day and it is about time the "
    f"council did something about the potholes on it.</p>"
    for n in range(5)
)
FORUM = (
    '<script type="application/ld+json">{"@context": "https://schema.org",'
    ' "@type": "DiscussionForumPosting", "headline": "Bridge"}</script>'
)


def page(body: str, head: str = "") -> str:
    return (
        f"<html><head><title>Bridge repair</title>{head}</head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>{body}"
        "<footer><p>Copyright the Gazette</p></footer></body></html>"
    )


PAGES = {
    "plain": page(f"<article><h1>Bridge repair</h1>{PARAGRAPHS}</article>"),
    "infinite scroll": page(
        f"<article><h1>Bridge repair</h1>{PARAGRAPHS}</article>"
        f"<div class='infinite-scroll'><h2>Next</h2>{APPENDED}</div>"
    ),
    "mvp post add": page(
        f"<div><h1>Bridge repair</h1>{PARAGRAPHS}</div>"
        f"<section id='mvp-post-add-box'><h1>Bakery</h1>{APPENDED}</section>"
    ),
    "share buttons": page(
        f"<article>{PARAGRAPHS}<div class='elementor-share-buttons'>"
        "<p>Share this article with your friends and family on every network</p></div>"
        "</article>"
    ),
    "comments div": page(
        f"<article>{PARAGRAPHS}</article><div class='comments-area'>{COMMENTS}</div>"
    ),
    "Comment id": page(
        f"<article>{PARAGRAPHS}</article><section id='Comments'>{COMMENTS}</section>"
    ),
    "comment list": page(
        f"<article>{PARAGRAPHS}</article><ol class='commentlist'><li>{COMMENTS}</li></ol>"
    ),
    "disqus": page(f"<article>{PARAGRAPHS}</article><div id='disqus_thread'>{COMMENTS}</div>"),
    "post comments": page(
        f"<article>{PARAGRAPHS}<div class='post-comments'>{COMMENTS}</div></article>"
    ),
    "forum": page(
        f"<div class='thread'>{PARAGRAPHS}<div class='comment'>{COMMENTS}</div></div>", FORUM
    ),
    "too short": page("<p>Too short to be an article.</p>"),
}


PASSES = [  # (favor_precision, fast): the fast precise, full precise and default passes
    (True, True),
    (True, False),
    (False, False),
]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_pass_gives_bare_extractions_text(name: str) -> None:
    html, url = PAGES[name], "https://example.org/bridge"
    raw = load_html(html)
    for tables in (True, False):
        page = prune(raw, html)  # one pruned copy for every pass, in the order html.py runs them
        for precise, fast in PASSES:
            doc = trafilatura.bare_extraction(
                load_html(html),
                url=url,
                fast=fast,
                favor_precision=precise,
                include_comments=False,
                include_tables=tables,
            )
            expected = getattr(doc, "text", None) if doc is not None else None
            assert text(page, url, precise, fast, tables) == expected, (precise, fast, tables)


def test_a_short_page_goes_through_the_default_rescue() -> None:
    # The default preset's baseline rescue and recall escalation run on a page whose
    # main block is short beside the rest of its text.
    teasers = "".join(
        f"<div class='teaser'><a href='/s{n}'>Story {n} about the spring floods and the bridge"
        f" repair the council voted on, with a long summary of what happened</a></div>"
        for n in range(30)
    )
    html = page(f"<article><p>A short note on the bridge repair.</p></article>{teasers}")
    doc = trafilatura.bare_extraction(
        load_html(html), url=None, include_comments=False, favor_precision=False
    )
    expected = getattr(doc, "text", None) if doc is not None else None
    assert text(prune(load_html(html), html), None, False, False, True) == expected


def test_the_pages_reach_every_prune() -> None:
    # Each written page is matched by the prune it is named for, so the test above
    # compares a pruned page, not only pages where the prunes find nothing.
    def hits(xpaths: list[object], name: str) -> bool:
        tree = load_html(PAGES[name])
        return any(len(xpath(tree)) for xpath in xpaths)  # type: ignore[operator]

    for name in ("infinite scroll", "mvp post add", "share buttons"):
        assert hits(RAW_TREE_PRUNE_XPATH, name), name
    for name in ("comments div", "Comment id", "comment list", "disqus", "post comments"):
        assert hits(REMOVE_COMMENTS_AND_LISTS_XPATH, name), name
        assert hits(REMOVE_COMMENTS_XPATH, name) or name == "comment list", name
    assert not hits(RAW_TREE_PRUNE_XPATH + REMOVE_COMMENTS_AND_LISTS_XPATH, "plain")


def test_every_literal_is_in_the_prune_expressions() -> None:
    # If trafilatura renames a class in these expressions, a literal goes stale: fail here.
    scroll = " ".join(xpath.path for xpath in RAW_TREE_PRUNE_XPATH)
    comments = " ".join(xpath.path for xpath in REMOVE_COMMENTS_AND_LISTS_XPATH)
    assert all(literal in scroll for literal in SCROLL_LITERALS)
    assert all(literal in comments for literal in COMMENT_LITERALS if literal != "omment")
    assert "[Cc]omment" in comments and "-comments" in comments


def test_a_prune_is_skipped_only_without_its_literals() -> None:
    assert may_match("<div class='x infinite-scroll'>", SCROLL_LITERALS)
    assert may_match("<div id='Comments'>", COMMENT_LITERALS)
    assert not may_match("<div class='article-body'>", SCROLL_LITERALS + COMMENT_LITERALS)
