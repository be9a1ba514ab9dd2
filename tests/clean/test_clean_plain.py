"""Titles and summaries come out as plain text, however the feed escaped them."""

from __future__ import annotations

from connectors.feeds import ParsedFeed, parse_feed
from monitor.clean import Cleaner
from monitor.clean.plain import looks_like_markup, plain_text, plain_title
from monitor.model import Article, RawItem

# Reddit's Atom, shortened: the `content` is escaped HTML with an SC_OFF comment, in three
# shapes seen in the wild: declared html (escaped once), not declared (Atom's default is
# text, so the markup arrives as text), and escaped twice.
_MD = (
    "&lt;!-- SC_OFF --&gt;&lt;div class=&quot;md&quot;&gt;&lt;p&gt;Our lab measured the "
    "drift.&lt;/p&gt; &lt;p&gt;Details &amp;amp; data are in the paper.&lt;/p&gt;&lt;/div&gt;"
    "&lt;!-- SC_ON --&gt; &amp;#32; submitted by &amp;#32; &lt;a href=&quot;https://r.test/u/x"
    "&quot;&gt; /u/x &lt;/a&gt;"
)
REDDIT_ATOM = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>r/science</title><id>/r/science</id>
<entry><id>t3_1</id><link href="https://r.test/1"/><title>Gravity drift: a first look</title>
  <updated>2024-05-01T10:00:00Z</updated><content type="html">{_MD}</content></entry>
<entry><id>t3_2</id><link href="https://r.test/2"/><title>Untyped content</title>
  <updated>2024-05-01T11:00:00Z</updated><content>{_MD}</content></entry>
<entry><id>t3_3</id><link href="https://r.test/3"/><title>Escaped twice</title>
  <updated>2024-05-01T12:00:00Z</updated>
  <content type="html">{_MD.replace("&", "&amp;")}</content></entry>
<entry><id>t3_4</id><link href="https://r.test/4"/>
  <title type="html">E = mc&lt;sup&gt;2&lt;/sup&gt; and &lt;i&gt;dark&lt;/i&gt; energy</title>
  <updated>2024-05-01T13:00:00Z</updated></entry>
</feed>
""".encode()

PRICE_RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Markets</title>
<item><title>Bitcoin tops &amp;#x0024;100,000 &amp;amp; holds</title><link>https://m.test/1</link>
<description>&lt;p&gt;First paragraph.&lt;/p&gt;&lt;p&gt;Second   paragraph.&lt;/p&gt;</description>
</item></channel></rss>
"""

PLAIN = "Our lab measured the drift.\nDetails & data are in the paper.\nsubmitted by /u/x"


def _articles(cleaner: Cleaner, body: bytes) -> list[Article]:
    parsed = parse_feed(body, source="feed", url="https://feed.test/")
    assert isinstance(parsed, ParsedFeed)
    out = []
    for item in parsed.items:
        assert isinstance(item, RawItem)
        result = cleaner.clean(item)
        assert isinstance(result, Article), result
        out.append(result)
    return out


def test_reddit_content_is_plain_text_in_every_escaping(cleaner: Cleaner) -> None:
    html_typed, untyped, twice, _ = _articles(cleaner, REDDIT_ATOM)
    for article in (html_typed, untyped, twice):
        assert article.text == PLAIN, article.input_id
        assert "<" not in article.text and "&" not in article.text.replace(" & ", "")


def test_markup_in_titles_becomes_text(cleaner: Cleaner) -> None:
    *_, sup = _articles(cleaner, REDDIT_ATOM)
    assert sup.title == "E = mc2 and dark energy"
    assert sup.text == ""
    (price,) = _articles(cleaner, PRICE_RSS)
    assert price.title == "Bitcoin tops $100,000 & holds"
    assert price.text == "First paragraph.\nSecond paragraph."


def test_plain_title_leaves_plain_text_alone() -> None:
    assert plain_title("x < y, and AT&T's 5 > 3") == "x < y, and AT&T's 5 > 3"
    assert plain_title("  two\n lines \t here ") == "two lines here"
    assert plain_title("<b></b>") is None
    assert plain_title(None) is None


def test_plain_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = "<div><p>One</p><script>var x = '<p>no</p>';</script><ul><li>Two</li></ul></div>"
    assert plain_text(html, is_html=True) == "One\nTwo"
    assert plain_text("Fish &amp;amp; chips", is_html=False) == "Fish & chips"


def test_markup_detection() -> None:
    assert looks_like_markup("<!-- SC_OFF -->text")
    assert looks_like_markup('<div class="md">')
    assert looks_like_markup("line<br/>break")
    assert not looks_like_markup("if x<y and z>w")
    assert not looks_like_markup("<Reuters> says")
    assert not looks_like_markup("5 < 6 > 4")
