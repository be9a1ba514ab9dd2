"""The HTML path through the real extraction process: metadata, fallback, limits."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.clean import Cleaner, HtmlExtractor, HtmlOptions, item_id_for
from monitor.config import CleanSettings
from monitor.model import Article, RawItem, Rejected, stable_id
from tests.clean.conftest import CONFIG

PARAS = [
    "North Korean troops have been seen near the front line in the Kursk region, two Ukrainian "
    "officials said on Tuesday, in the first such report from the area this month.",
    "The officials, who spoke on condition of anonymity, said the units were moved by rail "
    "from the Far East and had been trained by Russian instructors for several weeks.",
    "Seoul said it was checking the reports and would share what it knew with its allies.",
]

PAGE = f"""<!doctype html>
<html lang="en-GB"><head>
<title>North Korean troops seen near Kursk front | Example News</title>
<meta property="og:site_name" content="Example News">
<meta name="author" content="Olena Kovalenko">
<meta property="article:published_time" content="2024-11-05T09:30:00+00:00">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<article>
<h1>North Korean troops seen near Kursk front</h1>
{"".join(f"<p>{p}</p>" for p in PARAS)}
<p>Subscribe</p>
</article>
<section class="comments" id="comments"><h3>LEAVE A REPLY</h3>
<div class="comment"><p>This is the worst news I have read all week, said nobody at all.</p></div>
</section>
<footer><p>© 2024 Example News. All rights reserved.</p></footer>
</body></html>"""


def _article(result: Article | Rejected) -> Article:
    assert isinstance(result, Article), result
    return result


def test_html_article_text_and_metadata(cleaner: Cleaner) -> None:
    url = "https://Example.com/world/kursk?utm_source=feed#top"
    article = _article(cleaner.clean(RawItem(input_id="p1", source="example", html=PAGE, url=url)))
    for para in PARAS:
        assert para in article.text
    for noise in ("Subscribe", "LEAVE A REPLY", "worst news", "All rights reserved", "Home"):
        assert noise not in article.text
    assert article.title == "North Korean troops seen near Kursk front"
    assert article.title not in article.text
    assert article.author == "Olena Kovalenko"
    assert article.site_name == "Example News"
    assert article.language == "en-gb"
    assert article.published is not None and article.published.isoformat() == (
        "2024-11-05T00:00:00+00:00"
    )
    # Case, tracking parameters and the fragment do not change the id.
    assert article.item_id == item_id_for("https://example.com/world/kursk", None, "")
    assert article.meta["clean"]["path"] == "trafilatura"


def test_recall_fallback_when_the_preset_finds_nothing(cleaner: Cleaner) -> None:
    html = f"<html><body><footer><p>{' '.join(PARAS)}</p></footer></body></html>"
    article = _article(cleaner.clean(RawItem(input_id="p2", source="fallback", html=html)))
    assert PARAS[0] in article.text
    assert article.meta["clean"]["path"] == "trafilatura-recall"


def test_empty_page_is_rejected_with_reason(cleaner: Cleaner) -> None:
    result = cleaner.clean(RawItem(input_id="p3", source="s", html="<html><body></body></html>"))
    assert isinstance(result, Rejected)
    assert result.error.startswith("no main text found in the HTML")
    html = (
        "<html><body><article><p>North Korean troops were seen near the front line in "
        "Kursk, two Ukrainian officials said on Tuesday.</p></article></body></html>"
    )
    short = cleaner.clean(RawItem(input_id="p4", source="s", html=html))
    assert isinstance(short, Rejected)
    assert short.error == (
        "too little text after cleaning: 100 characters < min_chars 150 (0 lines removed)"
    )


def _big_page(size: int) -> str:
    para = f"<p>{PARAS[0]} {PARAS[1]}</p>\n"
    return "<html><body><article>" + para * (size // len(para)) + "</article></body></html>"


def test_five_mb_page_times_out_and_worker_goes_on() -> None:
    settings = CleanSettings(html_timeout_s=0.2)
    with Cleaner.from_settings(settings, CONFIG) as cleaner:
        cleaner.html.extract("<p>warm up</p>", None)  # start the process outside the clock
        started = time.monotonic()
        result = cleaner.clean(RawItem(input_id="big", source="s", html=_big_page(5_000_000)))
        assert time.monotonic() - started < 5
        assert isinstance(result, Rejected)
        assert result.error == "extraction timed out after 0.2s"
        # The killed process is replaced: the next page is cleaned normally.
        _article(cleaner.clean(RawItem(input_id="next", source="s", html=PAGE)))
        assert cleaner.html.restarts == 1


def test_size_cap_rejects_before_parsing() -> None:
    settings = CleanSettings(max_input_bytes=1_000_000)
    with Cleaner.from_settings(settings, CONFIG) as cleaner:
        result = cleaner.clean(RawItem(input_id="big", source="s", html=_big_page(2_000_000)))
        assert isinstance(result, Rejected)
        assert result.error.startswith("HTML too big: ")
        assert "> max_input_bytes 1000000" in result.error
        text = cleaner.clean(RawItem(input_id="t", source="s", text="ї" * 600_000))
        assert isinstance(text, Rejected)
        assert text.error == "text too big: 1200000 bytes > max_input_bytes 1000000"


def test_five_mb_text_dump_is_cleaned(cleaner: Cleaner) -> None:
    line = f"{PARAS[0]}\nRead also\n- A headline in a list\nLEAVE A REPLY\n"
    dump = line * (5_000_000 // len(line))
    article = _article(cleaner.clean(RawItem(input_id="dump", source="dump", text=dump)))
    assert "LEAVE A REPLY" not in article.text
    assert PARAS[0] in article.text


def test_dead_extraction_process_is_replaced() -> None:
    with HtmlExtractor(HtmlOptions(), timeout_s=10, memory_mb=1024) as extractor:
        assert extractor.extract(PAGE, None) is not None
        proc = extractor._proc
        assert proc is not None
        proc.kill()
        proc.wait()
        result = extractor.extract(PAGE, None)
        assert result is not None and PARAS[0] in result.text


def test_the_page_date_is_searched_only_when_the_feed_gave_none(cleaner: Cleaner) -> None:
    with HtmlExtractor(HtmlOptions(), timeout_s=10, memory_mb=1024) as extractor:
        found = extractor.extract(PAGE, None)
        skipped = extractor.extract(PAGE, None, find_date=False)
    assert found is not None and found.date == "2024-11-05"
    assert skipped is not None and skipped.date is None and skipped.text == found.text
    feed_date = datetime(2024, 11, 6, 8, 0, tzinfo=UTC)
    article = _article(
        cleaner.clean(RawItem(input_id="d", source="d", html=PAGE, published=feed_date))
    )
    assert article.published == feed_date


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (RawItem(input_id="e", source="s"), "empty item: no text and no HTML"),
        (RawItem(input_id="e", source="s", text="  \n "), "empty item: no text and no HTML"),
        (
            RawItem(input_id="b", source="s", text="PK\x00\x03" * 100),
            "text contains NUL bytes: binary content, not a page dump",
        ),
    ],
)
def test_bad_items_are_rejected(cleaner: Cleaner, raw: RawItem, reason: str) -> None:
    result = cleaner.clean(raw)
    assert result == Rejected(input_id=raw.input_id, source="s", error=reason)


def test_item_id_for() -> None:
    a = item_id_for("https://EXAMPLE.com/a?utm_medium=rss#x", "guid-1", "text")
    assert a == item_id_for("https://example.com/a", None, "other text")
    assert item_id_for(None, " guid-1 ", "text") == stable_id("guid-1")
    assert item_id_for(None, None, "text") == stable_id("text")


def test_phrase_file_path_is_the_shipped_one() -> None:
    assert (CONFIG / CleanSettings().phrases).is_file()
    assert isinstance(CONFIG, Path)


def test_page_headline_found_when_feed_title_differs(cleaner: Cleaner) -> None:
    raw = RawItem(input_id="p5", source="example", html=PAGE, title="Kursk: DPRK troops spotted")
    article = _article(cleaner.clean(raw))
    assert article.title == "North Korean troops seen near Kursk front"
    assert ("headline", article.title) in [(r.rule, r.text) for r in article.removed]
    assert not article.text.startswith("North Korean troops seen near Kursk front")


def test_feed_snippets_are_cleaned_as_text_not_extracted_as_pages(cleaner: Cleaner) -> None:
    from monitor.clean.html import fragment_text, is_fragment

    snippet = (
        "<p>North Korean troops were seen near the front in Kursk, officials said.</p>"
        "<p>Defense Minister Rustem Umerov told KBS that 11,000 soldiers had arrived.<br>"
        "More were expected within weeks.</p><script>track()</script>"
    )
    assert is_fragment(snippet) and not is_fragment("<html><body><p>x</p></body></html>")
    # A page is a page however much comes before its <html> (scripts, PHP warnings),
    # and an HTML5 page may leave out <html>, <head> and <body> altogether.
    preamble = "<script>var ads = 1;</script>\n" * 400
    assert not is_fragment(preamble + "<html><body><p>x</p></body></html>")
    assert not is_fragment("<!DOCTYPE html><title>t</title><p>x</p>")
    assert fragment_text(snippet).splitlines() == [
        "North Korean troops were seen near the front in Kursk, officials said.",
        "Defense Minister Rustem Umerov told KBS that 11,000 soldiers had arrived.",
        "More were expected within weeks.",
    ]
    raw = RawItem(input_id="e1", source="feed", html=snippet * 2, title="Troops near Kursk")
    article = _article(cleaner.clean(raw))
    assert "track()" not in article.text and "11,000 soldiers" in article.text


def _sentences(part: str, count: int) -> str:
    return " ".join(
        f"Sentence {i} of part {part} tells how the harbour council weighed the repair of "
        "the old sea wall."
        for i in range(count)
    )


# Sections inside a bare <span>: trafilatura's fast precise pass keeps the paragraphs but
# drops every heading and list; its full pass (compared with readability) keeps them.
HEADED_PAGE = (
    "<html><head><title>Sea wall</title></head><body><div><span>"
    f"<p>{_sentences('lead', 3)}</p>"
    + "".join(
        f"<h2>Part {n}: what the council decided</h2><p>{_sentences(str(n), 6)}</p><ul>"
        + "".join(f"<li>{_sentences(str(n), 1)} Item {j}.</li>" for j in range(6))
        + "</ul>"
        for n in range(4)
    )
    + "</span></div></body></html>"
)


def test_the_full_precise_pass_runs_when_the_fast_one_drops_the_headings(
    cleaner: Cleaner,
) -> None:
    from trafilatura.utils import load_html

    from monitor.clean.choice import needs_full_pass
    from monitor.clean.html import _headings, _main_text, extract_html
    from monitor.clean.passes import prune

    tree = load_html(HEADED_PAGE)
    page = prune(tree, HEADED_PAGE)
    _, fast = _main_text(tree, page, None, HtmlOptions(favor_precision=True), True)
    assert "what the council decided" not in fast and len(fast) >= 2000  # the case itself
    assert needs_full_pass(_headings(tree), fast)
    found = extract_html(HEADED_PAGE, None, HtmlOptions(favor_precision=True))
    assert found is not None and found.extractor == "trafilatura-full"
    assert found.text.count("what the council decided") == 4
    article = _article(cleaner.clean(RawItem(input_id="h1", source="s", html=HEADED_PAGE)))
    assert article.meta["clean"]["path"] == "trafilatura-full"
    assert "Part 3: what the council decided" in article.text and "Item 5." in article.text


def test_headings_are_listed_with_the_text_after_them() -> None:
    from trafilatura.utils import load_html

    from monitor.clean.html import _headings

    tree = load_html(
        "<html><body><div><h1>Main title</h1></div><p>Too short</p>"
        "<p>The first paragraph of the story, long enough.</p>"
        "<section><h2> Second  part </h2>tail text of twenty chars or more</section>"
        "<aside><h3>Alone</h3></aside></body></html>"
    )
    assert _headings(tree) == [
        ("Main title", "The first paragraph of the story, long enough."),
        ("Second part", "tail text of twenty chars or more"),
        ("Alone", ""),
    ]


def test_the_text_after_a_heading_is_looked_for_in_a_bounded_number_of_pieces() -> None:
    from trafilatura.utils import load_html

    from monitor.clean.html import _LEAD_PIECES, _headings

    links = "".join(f"<a href='/{n}'>L{n}</a> " for n in range(_LEAD_PIECES))
    far = "A sentence far below the heading, after every link."
    tree = load_html(f"<html><body><div><h2>Contents</h2>{links}<p>{far}</p></div></body></html>")
    assert _headings(tree) == [("Contents", "")]
    tree = load_html(f"<html><body><div><h2>Contents</h2><p>{far}</p>{links}</div></body></html>")
    assert _headings(tree) == [("Contents", far)]
