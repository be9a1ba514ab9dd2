"""Feed entries are headline items: published with their title, whatever their text."""

from __future__ import annotations

from dataclasses import replace

from connectors.feeds import ParsedFeed, parse_feed
from monitor.clean import Cleaner
from monitor.model import Article, Origin, RawItem, Rejected, Removal

# Hand-written in the shapes real feeds use: a science feed with only titles and links,
# reddit link posts (a short "submitted by" summary), a paper with one-line summaries.
HEADLINES_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Science headlines</title><link>https://sci.test/</link>
<item><title>Comet fragments found in Antarctic ice core</title>
  <link>https://sci.test/a/1</link><guid>https://sci.test/a/1</guid></item>
<item><title>Gene therapy restores hearing in mice</title>
  <link>https://sci.test/a/2</link><guid>https://sci.test/a/2</guid>
  <description>Short note.</description></item>
<item><guid isPermaLink="false">sci-3</guid><link>https://sci.test/a/3</link></item>
</channel></rss>
"""


def _entries(body: bytes) -> list[RawItem | Rejected]:
    parsed = parse_feed(body, source="sci", url="https://sci.test/rss")
    assert isinstance(parsed, ParsedFeed)
    return parsed.items


def _article(result: Article | Rejected) -> Article:
    assert isinstance(result, Article), getattr(result, "error", result)
    return result


def test_feed_entries_are_entries() -> None:
    assert all(isinstance(i, RawItem) and i.origin is Origin.ENTRY for i in _entries(HEADLINES_RSS))


def test_headline_only_entry_is_published_with_its_title(cleaner: Cleaner) -> None:
    first = _entries(HEADLINES_RSS)[0]
    assert isinstance(first, RawItem)
    article = _article(cleaner.clean(first))
    assert article.title == "Comet fragments found in Antarctic ice core"
    assert article.text == ""
    assert article.origin is Origin.ENTRY
    assert article.url == "https://sci.test/a/1"


def test_short_summary_entry_is_published_with_its_summary(cleaner: Cleaner) -> None:
    second = _entries(HEADLINES_RSS)[1]
    assert isinstance(second, RawItem)
    article = _article(cleaner.clean(second))
    assert article.title == "Gene therapy restores hearing in mice"
    assert article.text == "Short note."


def test_entry_with_neither_title_nor_text_is_rejected_with_the_reason(cleaner: Cleaner) -> None:
    third = _entries(HEADLINES_RSS)[2]
    assert isinstance(third, RawItem)
    result = cleaner.clean(third)
    assert isinstance(result, Rejected)
    assert result.error == "feed entry has neither a title nor any text"
    # Markup that holds no text is no text either.
    markup = replace(third, html="<p><img src='x.png'></p>", title="<b></b>")
    assert cleaner.clean(markup) == Rejected(third.input_id, "sci", result.error)


def test_untitled_entry_with_a_short_text_is_published(cleaner: Cleaner) -> None:
    raw = RawItem("toot-1", "social", text="Ferry service resumes at 6 pm.", origin=Origin.ENTRY)
    article = _article(cleaner.clean(raw))
    assert article.text == "Ferry service resumes at 6 pm."
    assert article.title == "Ferry service resumes at 6 pm."


def test_min_chars_still_rejects_short_pages_and_dumps(cleaner: Cleaner) -> None:
    dump = RawItem("d.txt", "d.txt", text="A title of a few words\nToo short.\n")
    result = cleaner.clean(dump)
    assert isinstance(result, Rejected) and "< min_chars 150" in result.error


PAGE_BODY = " ".join(["Rescuers reached the village after the landslide on Tuesday."] * 8)
SHORT_PAGE = "<html><body><nav>Home | World</nav><p>Subscribe to read.</p></body></html>"
FULL_PAGE = f"<html><body><article><h1>Landslide</h1><p>{PAGE_BODY}</p></article></body></html>"


def _fetched(page: str) -> RawItem:
    """An entry whose article page was fetched (`fetch_pages`), as `PageFetcher` leaves it."""
    return RawItem(
        input_id="https://news.test/landslide",
        source="news",
        html=page,
        title="Landslide buries village road",
        url="https://news.test/landslide",
        meta={"feed_content": "<p>Rescuers reached the village.</p>"},
        origin=Origin.ENTRY,
    )


def test_entry_falls_back_to_its_summary_when_the_page_is_too_short(cleaner: Cleaner) -> None:
    article = _article(cleaner.clean(_fetched(SHORT_PAGE)))
    assert article.title == "Landslide buries village road"
    assert article.text == "Rescuers reached the village."
    (warning,) = article.meta["warnings"]
    assert warning.startswith("article page not used: too little text after cleaning")


def test_entry_uses_its_page_when_extraction_finds_the_article(cleaner: Cleaner) -> None:
    article = _article(cleaner.clean(_fetched(FULL_PAGE)))
    assert "Rescuers reached the village after the landslide" in article.text
    assert len(article.text) > 150
    assert "warnings" not in article.meta


def test_headline_items_without_url_get_distinct_ids(cleaner: Cleaner) -> None:
    a = _article(cleaner.clean(RawItem("a", "s", title="Storm closes ports", origin=Origin.ENTRY)))
    b = _article(cleaner.clean(RawItem("b", "s", title="Storm opens ports", origin=Origin.ENTRY)))
    assert a.item_id != b.item_id


def test_an_entry_whose_page_could_not_be_fetched_says_so(cleaner: Cleaner) -> None:
    raw = replace(
        _fetched(""),
        html="<p>Rescuers reached the village.</p>",
        meta={"page_error": "HTTP 404 from https://news.test/landslide"},
    )
    article = _article(cleaner.clean(raw))
    assert article.text == "Rescuers reached the village."
    assert article.meta["warnings"] == [
        "article page not fetched: HTTP 404 from https://news.test/landslide"
    ]


def test_inspect_shows_a_headline_item_and_its_warnings(cleaner: Cleaner) -> None:
    from monitor.clean import render_inspection

    article = _article(cleaner.clean(_fetched(SHORT_PAGE)))
    shown = render_inspection(replace(article, text=""), as_json=False).splitlines()
    assert "origin     entry" in shown
    assert any(line.startswith("warning    article page not used: too little") for line in shown)
    assert shown[shown.index("--- text ---") + 1] == "(none: a headline item)"


SITE_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Harbor Gazette</title><link>https://gazette.test/</link>
<item><title>Mayor resigns after budget vote - Harbor Gazette</title>
  <link>https://gazette.test/a/1</link><description>The council met late.</description></item>
</channel></rss>
"""


def test_the_sites_name_is_cut_from_an_entrys_title_and_listed_as_removed(
    cleaner: Cleaner,
) -> None:
    parsed = parse_feed(SITE_RSS, source="gazette", url="https://gazette.test/rss")
    assert isinstance(parsed, ParsedFeed)
    (entry,) = parsed.items
    assert isinstance(entry, RawItem)
    article = _article(cleaner.clean(entry))
    assert article.title == "Mayor resigns after budget vote"
    assert Removal("- Harbor Gazette", "site name in title") in article.removed


def test_the_sites_name_from_its_address_is_cut_from_a_documents_title(cleaner: Cleaner) -> None:
    text = "Two people were hurt when a warehouse caught fire on the east side overnight. " * 3
    raw = RawItem(
        "fire",
        "ridgeview9news.com",
        text=text,
        title="Two hurt in warehouse fire - Ridgeview 9 News - Ridgeview, Ohio",
        url="https://www.ridgeview9news.com/story/fire",
    )
    article = _article(cleaner.clean(raw))
    assert article.title == "Two hurt in warehouse fire"


AGGREGATOR_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>"ferry" - News search</title><link>https://agg.test/</link>
<item><title>Ferry service resumes after storm - Harbor Gazette</title>
  <link>https://agg.test/articles/CBMi1</link>
  <source url="https://www.harborgazette.com">Harbor Gazette</source></item>
<item><title>Ferry fares rise - a second look - Ridgeview 9 News</title>
  <link>https://agg.test/articles/CBMi2</link>
  <source url="https://www.ridgeview9news.com/">Ridgeview News Channel</source></item>
</channel></rss>
"""


def test_an_aggregators_entry_loses_the_outlet_its_source_element_names(
    cleaner: Cleaner,
) -> None:
    parsed = parse_feed(AGGREGATOR_RSS, source="search", url="https://agg.test/rss")
    assert isinstance(parsed, ParsedFeed)
    first, second = (_article(cleaner.clean(i)) for i in parsed.items if isinstance(i, RawItem))
    assert first.meta["outlet"] == {
        "title": "Harbor Gazette",
        "href": "https://www.harborgazette.com",
    }
    assert first.title == "Ferry service resumes after storm"  # by the outlet's name
    assert second.title == "Ferry fares rise - a second look"  # by the outlet's address
