"""The publish date a plain-text page dump gives at its top, when the source gave none.

Saved pages and copied articles usually keep their dateline ("Published on Friday, 27
September 2013", "Updated: May 24, 2005, 3:23 PM ET", "date 2024-10-17", "14/09/2013").
Dedup matches stories on event time (publish time, else fetch time), so a dump of an old
article must not be treated as news of today.

Only full dates (day, month and year) count, and only near the top: a date in the body
is more often a date *mentioned* ("the 2005 rampage", "on March 11") than the date of the
article. Four patterns, not htmldate (made for HTML: it turns text datelines into
year-only dates) nor dateparser's search (slow, and it reads phrases such as "a week of"
as dates); docs/clean.md has the figures on the development corpora.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<y>(?:19|20)\d\d)"
_PATTERNS = (
    # May 3, 2013 / Sept. 18th 2013 / MAR. 14, 2013
    re.compile(rf"\b{_MON}\s*{_DAY}\s*,?\s*{_YEAR}\b", re.IGNORECASE),
    # 27 September 2013 / 4th of August, 2013
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MON}\s*,?\s*{_YEAR}\b", re.IGNORECASE),
    # 2024-10-17 / 2012.08.08 / 2012. 08. 08
    re.compile(rf"\b{_YEAR}\s*([-./])\s*(?P<m>[01]?\d)\s*\2\s*{_DAY}\b"),
    # 05/02/2013 / 14.09.2013 (day-month order from the number > 12, else the setting)
    re.compile(rf"\b(?P<a>[0-3]?\d)\s*([/.])\s*(?P<b>[0-3]?\d)\s*\2\s*{_YEAR}\b"),
)
NumericOrder = Literal["mdy", "dmy"]


def text_date(
    text: str,
    *,
    chars: int = 200,
    order: NumericOrder = "mdy",
    not_after: datetime | None = None,
) -> datetime | None:
    """The first full date in the first `chars` characters of `text`, as UTC midnight.

    `order` reads an ambiguous all-numeric date (05/02/2013); a date after `not_after`
    (plus a day, for time zones) or before 1990 is no publish date and is ignored.
    """
    head = text[:chars]
    found: list[tuple[int, datetime]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(head):
            when = _parse(match.groupdict(), order)
            if when is not None and _plausible(when, not_after):
                found.append((match.start(), when))
                break
    return min(found)[1] if found else None


def _parse(g: dict[str, str | None], order: NumericOrder) -> datetime | None:
    year = int(g["y"] or 0)
    if g.get("mon"):
        month, day = _MONTHS.index((g["mon"] or "")[:3].casefold()) + 1, int(g["d"] or 0)
    elif g.get("m"):
        month, day = int(g["m"] or 0), int(g["d"] or 0)
    else:
        a, b = int(g["a"] or 0), int(g["b"] or 0)
        if a > 12 or (b <= 12 and order == "dmy"):
            day, month = a, b
        else:
            month, day = a, b
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:  # 31 February, month 13: not a date
        return None


def _plausible(when: datetime, not_after: datetime | None) -> bool:
    if when.year < 1990:
        return False
    return not_after is None or when <= not_after + timedelta(days=1)
