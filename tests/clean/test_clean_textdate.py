"""Publish dates read from the top of a text dump, and the cleaner's use of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.clean import Cleaner
from monitor.clean.textdate import text_date
from monitor.config import CleanSettings
from monitor.model import RawItem
from tests.clean.conftest import CONFIG

BODY = (
    "The regional council approved the new budget after a long debate on Tuesday night, "
    "with most members voting in favour of the spending plan for schools and roads."
)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("Posted: May 24, 2005, 3:23 PM ET", datetime(2005, 5, 24, tzinfo=UTC)),
        ("Published on Friday, 27 September 2013", datetime(2013, 9, 27, tzinfo=UTC)),
        ("4th of August, 2013 | Showrunner", datetime(2013, 8, 4, tzinfo=UTC)),
        ("MAR. 14, 2013, 8: 12 PM Hostility", datetime(2013, 3, 14, tzinfo=UTC)),
        ("date 2024-10-17 Rutte: no evidence", datetime(2024, 10, 17, tzinfo=UTC)),
        ("Published: 2012. 08. 08 09: 01 AM", datetime(2012, 8, 8, tzinfo=UTC)),
        ("Last updated 13: 26 14 / 09 / 2013", datetime(2013, 9, 14, tzinfo=UTC)),
        ("05 / 02 / 2013 Lindsay Lohan", datetime(2013, 5, 2, tzinfo=UTC)),
    ],
)
def test_datelines_in_common_forms(head: str, expected: datetime) -> None:
    assert text_date(f"{head}\n{BODY}") == expected


def test_the_first_date_wins_and_day_month_order_is_a_setting() -> None:
    text = "Updated 03/04/2013, first published 1 April 2013"
    assert text_date(text) == datetime(2013, 3, 4, tzinfo=UTC)
    assert text_date(text, order="dmy") == datetime(2013, 4, 3, tzinfo=UTC)
    # A number over 12 settles the order whatever the setting.
    assert text_date("14/09/2013", order="mdy") == datetime(2013, 9, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "The actress, who shot to fame in the 1999 movie American Pie, checked in on March 11.",
        "Kyiv • UNN\nNo date here at all.",
        "Meeting on 31/02/2013 (no such day)",
        "In 2013 the season ended in May.",
    ],
)
def test_no_full_date_no_publish_date(text: str) -> None:
    assert text_date(text) is None


def test_only_the_top_is_searched_and_future_or_ancient_dates_are_ignored() -> None:
    late = BODY + " The next vote is on May 3, 2013."
    assert text_date(late, chars=120) is None
    assert text_date(late, chars=400) == datetime(2013, 5, 3, tzinfo=UTC)
    fetched = datetime(2024, 11, 6, tzinfo=UTC)
    assert text_date("June 1, 2031 is the deadline", not_after=fetched) is None
    assert text_date("November 7, 2024 (time zones)", not_after=fetched) is not None
    assert text_date("Founded on March 3, 1921") is None


def _raw(text: str, **kw: object) -> RawItem:
    return RawItem(
        input_id="t1",
        source="saved",
        text=text,
        fetched=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        **kw,  # type: ignore[arg-type]
    )


def test_cleaner_dates_an_undated_text_item_from_its_dateline() -> None:
    with Cleaner.from_settings(CleanSettings(text_dates=True), CONFIG) as cleaner:
        art = cleaner.clean(_raw(f"Budget passes\nSeptember 18, 2013\n{BODY}\n{BODY}"))
        assert not hasattr(art, "error"), art
        assert art.published == datetime(2013, 9, 18, tzinfo=UTC)
        # The source's own date wins over the text's.
        given = datetime(2013, 9, 20, 7, 0, tzinfo=UTC)
        art = cleaner.clean(_raw(f"September 18, 2013\n{BODY}\n{BODY}", published=given))
        assert art.published == given  # type: ignore[union-attr]
    with Cleaner.from_settings(CleanSettings(), CONFIG) as cleaner:  # off by default
        art = cleaner.clean(_raw(f"Budget passes\nSeptember 18, 2013\n{BODY}\n{BODY}"))
        assert art.published is None  # type: ignore[union-attr]
