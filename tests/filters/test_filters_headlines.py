"""The default rules judge a headline item (a title, no text) by its title."""

from __future__ import annotations

from pathlib import Path

from monitor.config import load_settings
from monitor.filters import RelevanceFilter
from monitor.model import Article, Origin

CONFIG = Path(__file__).resolve().parents[2] / "config" / "monitor.yaml"


def _headline(title: str) -> Article:
    return Article("i", "i", "feed", title=title, text="", origin=Origin.ENTRY)


def test_default_rules_match_a_headline_item_on_its_title() -> None:
    settings = load_settings(CONFIG)
    relevance = RelevanceFilter.from_settings(settings.filters, settings.config_dir, str(CONFIG))
    on_topic = relevance.evaluate(_headline("North Korean troops fight in Russia's war on Ukraine"))
    assert on_topic.relevant, on_topic.reason
    assert {e.field for e in on_topic.entities} == {"title"}
    off_topic = relevance.evaluate(_headline("Gene therapy restores hearing in mice"))
    assert not off_topic.relevant
