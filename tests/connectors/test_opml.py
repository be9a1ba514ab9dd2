"""OPML in and out: nested outlines, safe parsing, merging without duplicates, round trip."""

from __future__ import annotations

import pytest
import yaml

from connectors.opml import Feed, OpmlError, merge_feeds, parse_opml, render_opml
from monitor.config_edit import add_sources

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Reader export</title></head>
  <body>
    <outline text="News">
      <outline text="Kyiv Daily" title="Kyiv Daily" type="rss"
               xmlUrl="https://kyiv.example/rss.xml" htmlUrl="https://kyiv.example/"/>
      <outline title="Asia">
        <outline text="Seoul  Wire" type="rss" version="ATOM" xmlurl="https://seoul.example/atom"/>
      </outline>
    </outline>
    <outline text="No title" xmlUrl="https://bare.example/feed.json" type="json"/>
    <outline xmlUrl="https://noname.example/rss"/>
    <outline text="Homepage only" htmlUrl="https://blog.example/"/>
    <outline text="Gopher" xmlUrl="gopher://old.example/feed"/>
    <outline text="Empty folder"></outline>
  </body>
</opml>
"""


def test_nested_outlines_become_feeds_and_the_rest_is_reported() -> None:
    parsed = parse_opml(NESTED)
    got = [(f.name, f.url, f.kind, f.category) for f in parsed.feeds]
    assert got == [
        ("Kyiv Daily", "https://kyiv.example/rss.xml", "auto", "News"),
        ("Seoul Wire", "https://seoul.example/atom", "atom", "News / Asia"),
        ("No title", "https://bare.example/feed.json", "json", ""),
        ("noname.example", "https://noname.example/rss", "auto", ""),
    ]
    assert parsed.feeds[1].line == 9
    assert parsed.skipped == [
        "line 14: outline 'Homepage only': no xmlUrl (not a feed) and no outlines in it",
        "line 15: outline 'Gopher': xmlUrl 'gopher://old.example/feed' is not an http:// or"
        " https:// URL",
        "line 16: outline 'Empty folder': no xmlUrl (not a feed) and no outlines in it",
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<opml><body><outline", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "the root element is <rss>, not <opml>"),
        (b"<opml version='2.0'><head/></opml>", "no <body> element"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<opml><body><outline text="&b;" xmlUrl="https://x.example/"/></body></opml>',
            "has a <!DOCTYPE>: refused",
        ),
        (
            b'<!DOCTYPE opml SYSTEM "http://127.0.0.1:9/opml.dtd"><opml><body/></opml>',
            "has a <!DOCTYPE>: refused",
        ),
    ],
)
def test_bad_files_get_a_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(OpmlError, match=reason.replace("(", r"\(")) as err:
        parse_opml(data)
    assert "\n" not in str(err.value)


def test_merge_leaves_out_configured_urls_and_renames_taken_names() -> None:
    existing = [
        {"name": "Kyiv Daily", "url": "https://KYIV.example/rss.xml"},
        {"name": "Seoul Wire", "url": "https://other.example/rss"},
    ]
    feeds = [
        Feed("Kyiv Daily", "https://kyiv.example/rss.xml", line=3),
        Feed("Seoul Wire", "https://seoul.example/atom", "atom", line=9),
        Feed("Seoul Wire", "https://seoul2.example/atom", line=10),
        Feed("Again", "https://seoul.example/atom#top", line=11),
    ]
    merge = merge_feeds(existing, feeds)
    assert merge.added == [
        {"name": "Seoul Wire-2", "url": "https://seoul.example/atom", "kind": "atom"},
        {"name": "Seoul Wire-3", "url": "https://seoul2.example/atom", "kind": "auto"},
    ]
    assert merge.present == [
        "line 3: https://kyiv.example/rss.xml is already source 'Kyiv Daily'",
        "line 11: https://seoul.example/atom#top is already source 'Seoul Wire-2'",
    ]
    assert len(merge.renamed) == 2


def test_export_parses_back_to_the_same_sources() -> None:
    sources = [
        {"name": "A & B <news>", "url": "https://a.example/rss?x=1&y=2", "kind": "rss"},
        {"name": "Ünïcode", "url": "https://b.example/feed", "kind": "auto"},
    ]
    data = render_opml(sources, "news-monitor sources")
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    parsed = parse_opml(data)
    assert [f.entry() for f in parsed.feeds] == sources and parsed.skipped == []


ENTRY = {"name": "n", "url": "https://n.example/rss", "kind": "auto"}


@pytest.mark.parametrize(
    "text",
    [
        "kafka:\n  topic: t\n",
        "kafka:\n  topic: t  # no newline at the end",
        "# feeds\nsources: []   # none yet\n#  - name: example\nkafka:\n  topic: t\n",
        "sources:\n  - name: a\n    url: https://a.example/rss\n# a comment\n\n"
        "kafka:\n  topic: t\n",
        "sources:\n- name: a\n  url: https://a.example/rss\nkafka: {topic: t}\n",
    ],
)
def test_sources_are_added_to_the_text_keeping_comments(text: str) -> None:
    new, kept = add_sources(text, [ENTRY])
    assert kept
    before = yaml.safe_load(text)
    assert yaml.safe_load(new) == {**before, "sources": [*(before.get("sources") or []), ENTRY]}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            assert line in new.splitlines()


def test_a_flow_style_list_is_rewritten_whole_and_says_so() -> None:
    text = "# mine\nsources: [{name: a, url: 'https://a.example/'}]\n"
    new, kept = add_sources(text, [ENTRY])
    assert not kept
    assert yaml.safe_load(new)["sources"] == [{"name": "a", "url": "https://a.example/"}, ENTRY]
