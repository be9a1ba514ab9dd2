"""Site names cut from titles: what names the site, what is kept, what is never cut."""

from __future__ import annotations

import pytest

from monitor.clean.sitename import site_keys, site_label, strip_site_name


@pytest.mark.parametrize(
    ("given", "label"),
    [
        ("https://www.ridgeview9news.com/story/1", "ridgeview9news"),
        ("https://news.example.co.uk/a", "example"),
        ("ridgeview9news.com:80", "ridgeview9news"),
        ("http://localhost:8000/feed.xml", None),  # no registrable name
        ("Ridgeview News", None),  # a name, not a host
        ("003_b1ac101bd35f63a9.txt", None),  # a file name, not a host
        ("", None),
    ],
)
def test_site_label_is_the_registrable_name_without_its_suffix(
    given: str, label: str | None
) -> None:
    assert site_label(given) == label


KEYS = site_keys(["https://www.ridgeview9news.com/story/1"], ["Harbor Gazette Online"])


@pytest.mark.parametrize(
    ("title", "kept", "cut"),
    [
        # The site's name and everything after it (its city, its slogan).
        (
            "Two hurt in warehouse fire - Ridgeview 9 News - Ridgeview, Ohio",
            "Two hurt in warehouse fire",
            " - Ridgeview 9 News - Ridgeview, Ohio",
        ),
        ("Bridge closed after crash | RIDGEVIEW9NEWS.com", "Bridge closed after crash", None),
        ("Mayor resigns :: Harbor Gazette", "Mayor resigns", None),
        # A site's name first, alone in its segment.
        (
            "Harbor Gazette Online | Mayor resigns after vote",
            "Mayor resigns after vote",
            "Harbor Gazette Online | ",
        ),
        # A dash inside the headline is not the site's name.
        ("Kim - Putin talks end - Ridgeview 9 News", "Kim - Putin talks end", None),
    ],
)
def test_the_sites_name_is_cut(title: str, kept: str, cut: str | None) -> None:
    new, removed = strip_site_name(title, KEYS)
    assert new == kept
    assert removed == (cut if cut is not None else title[len(kept) :])


@pytest.mark.parametrize(
    "title",
    [
        "Rutte: NATO has no evidence of the deployment",  # a colon is not a separator
        "Kursk-based units - a report from the front",  # another segment, not the site
        "Ridgeview 9 News - Fire",  # cutting would leave one word
        "Ridgeview9news",  # nothing but the name
        "Harbor residents protest - Gazette reporters were there",  # the start only
    ],
)
def test_other_titles_are_kept_whole(title: str) -> None:
    assert strip_site_name(title, KEYS) == (title, "")


def test_without_a_known_site_nothing_is_cut() -> None:
    assert strip_site_name("Two hurt in fire - Ridgeview 9 News", ()) == (
        "Two hurt in fire - Ridgeview 9 News",
        "",
    )
    # Keys too short to be specific are not used.
    assert site_keys(["https://ab.com/x"], ["TV"]) == ()
