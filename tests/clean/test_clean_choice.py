"""The choice between the precise and the default extraction of a page (pure rule)."""

from __future__ import annotations

from monitor.clean.choice import (
    MAX_SMALL_TRIM,
    MIN_LENGTH_SHARE,
    SHORT_TEXT,
    contained,
    keep_precise,
    needs_default,
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
