"""The choice between the precise and the default extraction of a page (pure rule)."""

from __future__ import annotations

from monitor.clean.choice import (
    MAX_SMALL_TRIM,
    MIN_DROPPED_HEADINGS,
    MIN_LENGTH_SHARE,
    SHORT_TEXT,
    contained,
    dropped_headings,
    keep_precise,
    may_need_full_pass,
    needs_default,
    needs_full_pass,
    shingles,
)

ARTICLE = " ".join(
    f"Paragraph {n}: the council met on Tuesday and voted to repair the old bridge over the "
    f"river before the spring floods, officials said in statement number {n}."
    for n in range(20)
)
CHROME = "Home News Sport Weather Share this article on Facebook Twitter Email Print"


def test_a_trimmed_precise_text_is_kept() -> None:
    precise = ARTICLE[: len(ARTICLE) * 3 // 5]
    assert keep_precise(precise, f"{CHROME}\n{ARTICLE}\n{CHROME}")


def test_a_short_block_of_the_page_gives_way_to_the_default() -> None:
    teaser = ARTICLE[:200]  # part of the article, but a small part of it (a teaser box)
    assert contained(teaser, ARTICLE) > 0.9
    assert not keep_precise(teaser, ARTICLE)


def test_a_block_not_in_the_default_gives_way_to_it() -> None:
    advert = " ".join(
        f"Mortgage offer {n}: fixed rates from 3.9% for your new home, ask our advisers today."
        for n in range(12)
    )
    default = ARTICLE[: len(advert) * 2]
    assert contained(advert, default) == 0.0
    assert not keep_precise(advert, default)


def test_a_precise_text_as_long_as_the_default_is_kept() -> None:
    assert keep_precise(ARTICLE, ARTICLE[:100])
    assert keep_precise("", "")
    assert shingles("one two") == shingles("One  two") and not shingles("")


def test_a_cut_lead_or_closing_paragraph_gives_way_to_the_default() -> None:
    # Precision dropped the article's first (or last) paragraph and nothing else: the
    # default adds under MAX_SMALL_TRIM of the precise text, so it is taken.
    paragraphs = ARTICLE.split("Paragraph ")[1:]
    body = "\n".join(f"Paragraph {p}" for p in paragraphs)
    without_lead = "\n".join(f"Paragraph {p}" for p in paragraphs[1:])
    without_tail = "\n".join(f"Paragraph {p}" for p in paragraphs[:-1])
    for precise in (without_lead, without_tail):
        assert len(body) - len(precise) <= MAX_SMALL_TRIM * len(precise)
        assert contained(precise, body) == 1.0
        assert not keep_precise(precise, body)


def test_a_third_of_the_default_gives_way_to_it() -> None:
    third = ARTICLE[: len(ARTICLE) // 3]
    assert len(third) < MIN_LENGTH_SHARE * len(ARTICLE)
    assert not keep_precise(third, ARTICLE)


def test_only_a_short_precise_text_is_compared() -> None:
    assert needs_default("x" * (SHORT_TEXT - 1))
    assert not needs_default("x" * SHORT_TEXT)


HEADINGS = [
    ("Part one", "Paragraph 1: the council met on Tuesday"),
    ("Part two", "Paragraph 2: the council met on Tuesday"),
    ("Part three", "Paragraph 3: the council met on Tuesday"),
    ("Latest news", "Ferry timetable changes for the winter season"),  # a sidebar's
    ("Part one", "Paragraph 1: the council met on Tuesday"),  # repeated: counts once
]


def test_only_the_articles_headings_are_counted() -> None:
    # A heading is the article's when the text after it was extracted: the sidebar's is not.
    assert dropped_headings(HEADINGS, ARTICLE) == (3, 3)
    with_heads = "Part one\n" + ARTICLE.replace("Paragraph 2:", "Part two\nParagraph 2:")
    assert dropped_headings(HEADINGS, with_heads) == (1, 3)
    assert dropped_headings([("Part one", "")], ARTICLE) == (0, 0)
    assert dropped_headings(HEADINGS, "  Paragraph  1: the council   met on Tuesday") == (1, 1)


def test_the_full_pass_runs_when_most_article_headings_were_dropped() -> None:
    assert needs_full_pass(HEADINGS, ARTICLE)  # 3 of 3 dropped
    two_of_three = ARTICLE.replace("Paragraph 3:", "Part three\nParagraph 3:")
    assert dropped_headings(HEADINGS, two_of_three) == (2, 3)
    assert needs_full_pass(HEADINGS, two_of_three)
    # One dropped heading is not enough, however few the article has.
    assert dropped_headings(HEADINGS[:1], ARTICLE) == (MIN_DROPPED_HEADINGS - 1, 1)
    assert not needs_full_pass(HEADINGS[:1], ARTICLE)
    # Two dropped of five article headings is under half.
    five = [(f"Part {n}", f"Paragraph {n}: the council met on Tuesday") for n in range(1, 6)]
    kept = ARTICLE.replace("Paragraph 3:", "Part 3\nParagraph 3:")
    kept = kept.replace("Paragraph 4:", "Part 4\nParagraph 4:")
    kept = kept.replace("Paragraph 5:", "Part 5\nParagraph 5:")
    assert dropped_headings(five, kept) == (2, 5)
    assert not needs_full_pass(five, kept)
    # No article heading at all (a page without headings, or only a sidebar's).
    assert not needs_full_pass(HEADINGS[3:4], ARTICLE)


def test_the_cheap_precheck_never_rules_out_a_full_pass() -> None:
    # may_need_full_pass looks at the heading texts alone: False only when needs_full_pass
    # is False whatever the text after each heading is.
    texts = [head for head, _ in HEADINGS]
    assert may_need_full_pass(texts, ARTICLE)
    assert not may_need_full_pass(["Part one", "Part one", ""], ARTICLE)  # one distinct
    kept = "Part one\nPart two\nPart three\nLatest news\n" + ARTICLE
    assert not may_need_full_pass(texts, kept) and not needs_full_pass(HEADINGS, kept)
