"""`html._metadata` uses trafilatura's private metadata steps: it must match the public
`trafilatura.extract_metadata` on the fields the project reads. This fails when a
trafilatura release changes those steps (pyproject.toml pins the minor version)."""

from __future__ import annotations

from typing import Any

import pytest
import trafilatura
from trafilatura.utils import load_html

from monitor.clean.html import _metadata

BODY = (
    "<p>The city council met on Tuesday and voted to repair the old bridge over the river "
    "before the spring floods, the mayor's office said in a statement.</p>" * 3
)

PAGES = {
    "meta tags": f"""<html><head><title>Bridge repair approved | Example News</title>
<meta property="og:title" content="Bridge repair approved">
<meta property="og:site_name" content="Example News">
<meta name="author" content="Olena Kovalenko">
<meta property="og:url" content="https://example.com/city/bridge">
<meta property="article:published_time" content="2024-11-05T09:30:00+00:00">
</head><body><article>{BODY}</article></body></html>""",
    "json-ld": f"""<html><head><title>Bridge | Site</title>
<script type="application/ld+json">{{"@context": "https://schema.org",
"@type": "NewsArticle", "headline": "Council votes for the bridge",
"author": {{"@type": "Person", "name": "Jan Novak"}},
"publisher": {{"@type": "Organization", "name": "City Post"}},
"datePublished": "2023-03-14"}}</script></head>
<body><article>{BODY}</article></body></html>""",
    "byline only": f"""<html><head><title>Council votes for the bridge - city post</title></head>
<body><h1>Council votes for the bridge</h1>
<div class="byline">By <span class="author">Maria Schmidt</span></div>
<p class="date">Published 7 June 2022</p><article>{BODY}</article></body></html>""",
    "nothing": f"<html><body><div>{BODY}</div></body></html>",
}
FIELDS = ("title", "author", "url", "sitename", "date")
DATE_PARAMS: dict[str, Any] = {"extensive_search": False, "original_date": True}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_metadata_matches_trafilaturas_public_extract_metadata(name: str) -> None:
    url = "https://example.com/city/bridge-vote"
    ours = _metadata(load_html(PAGES[name]), url, dict(DATE_PARAMS))
    public = trafilatura.extract_metadata(load_html(PAGES[name]), url, dict(DATE_PARAMS))
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(public, f) for f in FIELDS}


def test_the_fixtures_exercise_each_field() -> None:
    """The pages above reach every source of each field, or the comparison proves little."""
    found = {
        name: _metadata(load_html(page), None, dict(DATE_PARAMS)) for name, page in PAGES.items()
    }
    assert found["meta tags"].author == "Olena Kovalenko"
    assert found["meta tags"].sitename == "Example News"
    assert found["meta tags"].date == "2024-11-05"
    assert found["json-ld"].author == "Jan Novak"
    assert found["json-ld"].date == "2023-03-14"
    assert found["byline only"].author == "Maria Schmidt"
    assert found["byline only"].title == "Council votes for the bridge"
    assert found["nothing"].author is None
