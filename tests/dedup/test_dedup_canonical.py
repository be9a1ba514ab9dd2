"""Canonical URLs: tracking decorations never make a second article."""

from __future__ import annotations

import pytest

from monitor.urls import canonical_url

BASE = "example.com/world/2024/11/05/north-korea-troops"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/world/2024/11/05/north-korea-troops",
        "https://www.example.com/world/2024/11/05/north-korea-troops/",
        "http://example.com/world/2024/11/05/north-korea-troops?utm_source=tw&utm_medium=social",
        "https://example.com/world/2024/11/05/north-korea-troops?fbclid=IwAR0xyz#comments",
        "https://m.example.com/world/2024/11/05/north-korea-troops",
        "https://amp.example.com/world/2024/11/05/north-korea-troops/amp/",
        "https://example.com/amp/world/2024/11/05/north-korea-troops?ref=rss",
    ],
)
def test_tracking_variants_share_one_key(url: str) -> None:
    assert canonical_url(url) == BASE


def test_article_parameters_are_kept() -> None:
    assert (
        canonical_url("https://example.com/news?id=12&utm_campaign=x") == "example.com/news?id=12"
    )
    assert canonical_url("https://example.com/news?id=12") != canonical_url(
        "https://example.com/news?id=13"
    )


def test_extra_params_from_config_are_dropped() -> None:
    assert canonical_url("https://example.com/a?src=feed", ("src",)) == "example.com/a"


@pytest.mark.parametrize("url", ["", "   ", "not a url", "ftp://example.com/file", "mailto:a@b.c"])
def test_non_web_urls_have_no_key(url: str) -> None:
    assert canonical_url(url) is None
