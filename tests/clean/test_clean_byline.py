"""The byline author found in one walk gives what trafilatura's `extract_author` gives."""

from __future__ import annotations

import pytest
from trafilatura.metadata import extract_author
from trafilatura.utils import load_html

from monitor.clean.byline import find_author

# (body of a page, the author trafilatura finds), one rule or trap each.
PAGES = [
    ('<p class="author">Jane Doe</p>', "Jane Doe"),
    ('<a rel="author" href="/jd">Jane Doe</a>', "Jane Doe"),
    ('<span itemprop="author name">Jane Doe</span>', "Jane Doe"),
    ('<div data-testid="AuthorCard">Jane Doe</div>', "Jane Doe"),
    ('<strong class="article-authorName">Jane Doe</strong>', "Jane Doe"),
    ("<author>Jane Doe</author>", "Jane Doe"),
    ("<div><rel>me</rel>Jane Doe</div>", "Me Jane Doe"),
    ('<h4 class="byline">Jane Doe</h4>', "Jane Doe"),
    ('<span id="zuozhe">Jane Doe</span>', "Jane Doe"),
    ('<section class="writer">Jane Doe</section>', "Jane Doe"),
    ('<li data-component="Byline">Jane Doe</li>', "Jane Doe"),
    ("<p>No byline at all.</p>", None),
    # Level order: a specific rule's match wins over an earlier generic one.
    ('<div class="writer">Ann Ames</div><p class="author">Jane Doe</p>', "Jane Doe"),
    # Too short or too long: the next candidate is taken.
    ('<p class="author">J</p><span class="author">Jane Doe</span>', "Jane Doe"),
    (f'<p class="author">{"x" * 130}</p><span class="author">Jane Doe</span>', "Jane Doe"),
    # Discarded: in a comment section, a sidebar, a figure; a time inside is cut out and
    # the text around it joined as trafilatura's deletion joins it.
    ('<div id="comments"><p class="author">Troll</p></div><p class="author">Jane Doe</p>',
     "Jane Doe"),
    ('<div class="widget sidebar"><p class="author">Ad</p></div><i class="author">Jane Doe</i>',
     "Jane Doe"),
    ('<figure><span class="author">Photo Desk</span></figure><p class="byl">Jane Doe</p>',
     "Jane Doe"),
    ('<p class="author">Jane<time>2024-01-02</time> Doe, <span class="date">May</span>Kyiv</p>',
     "Jane Doe; Kyiv"),
    ('<p class="author">Jane<time>2024</time>doe</p>', "Janedoe"),  # glued, as trafilatura
    ('<p class="author">By <span class="print">print</span>Jane Doe<!-- c --> and Al Li</p>',
     "Jane Doe; Al Li"),
    ('<div class="author"><span class="quote">x</span><span class="quote">y</span>Jane Doe</div>',
     "Jane Doe"),
    # The root is not discarded by the class rules; a discarded author element is.
    ('<span class="author comments-list">Troll</span><p class="author">Jane Doe</p>',
     "Jane Doe"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), PAGES)
def test_the_same_author_as_trafilatura(body: str, expected: str | None) -> None:
    tree = load_html(f"<html><head><title>t</title></head><body>{body}</body></html>")
    assert extract_author(tree) == expected  # the reference itself, on this page
    assert find_author(tree) == expected
