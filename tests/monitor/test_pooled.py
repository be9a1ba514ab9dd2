"""The workers' half of an item (`monitor.pooled.prepare`) run in this process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import pooled
from monitor.clean import Cleaner
from monitor.config import Settings
from monitor.dedup import drop_params, identity_keys
from monitor.filters import RelevanceFilter
from monitor.model import Article, RawItem
from monitor.urls import DEFAULT_TRACKING

CONFIG = Path(__file__).resolve().parents[2] / "config"
FOOTER = "Our journalists work around the clock to bring you the news from the harbour"


@pytest.fixture
def settings() -> Settings:
    return Settings.model_validate(
        {"filters": {"rules": [{"name": "harbour", "query": "harbour"}]}}
    )


@pytest.fixture
def worker(settings: Settings) -> Iterator[None]:
    pooled.init_worker(settings, False, True, drop_params(settings.dedup))
    yield
    assert pooled._stages is not None
    pooled._stages.drafter.html.close()
    pooled._stages = None


def item(n: int) -> RawItem:
    place = "harbour" if n % 2 else "orchard"
    text = (
        f"Officials said on day {n} that the {place} works would resume after residents asked "
        f"for a review of the budget. The council agreed to publish every figure of the plan "
        f"before the vote next month.\n{FOOTER}"
    )
    url = f"https://News.example/{place}/{n}?utm_source=feed" if n % 3 else None
    return RawItem(input_id=f"i{n}", source="site", text=text, url=url, guid=f"g{n}")


@pytest.mark.usefixtures("worker")
def test_the_verdict_holds_while_the_template_removes_nothing(settings: Settings) -> None:
    relevance = RelevanceFilter.from_settings(settings.filters, CONFIG, "")
    with Cleaner.from_settings(settings.clean, CONFIG) as cleaner:
        for n in range(8):
            raw = item(n)
            prepared = pooled.prepare(raw)
            article, verdict = pooled.finish(cleaner, raw, prepared)
            assert isinstance(article, Article)
            if FOOTER in article.text:  # as drafted: the worker's verdict is the one
                assert verdict == relevance.evaluate(article)
            else:  # the footer (it says "harbour") became template: decided again
                assert verdict is None
                assert relevance.evaluate(article).relevant == bool(n % 2)


@pytest.mark.usefixtures("worker")
def test_a_rejected_draft_has_no_verdict() -> None:
    prepared = pooled.prepare(RawItem(input_id="empty", source="site"))
    assert prepared.verdict is None and prepared.fallback_verdict is None
    assert prepared.canonical == ()


def test_identity_keys_from_the_workers_canonical_urls_are_dedups_own() -> None:
    drop = (*DEFAULT_TRACKING, "ref")
    for n in range(6):
        raw = item(n)
        raw = RawItem(
            input_id=raw.input_id,
            source=raw.source,
            text=raw.text,
            url=f"{raw.url}&ref=x" if raw.url else None,
            guid=[f"g{n}", f" {raw.url} ", None][n % 3],
        )
        canonical = pooled.canonical_forms(raw, drop)
        assert len(canonical) == len({raw.url, (raw.guid or "").strip()} - {None, ""})
        article = Article(
            item_id="x",
            input_id=raw.input_id,
            source=raw.source,
            title="T",
            text="Body",
            url=raw.url,
            guid=raw.guid,
        )
        assert identity_keys(article, drop, dict(canonical)) == identity_keys(article, drop)


def test_without_filters_the_urls_are_still_canonicalised(settings: Settings) -> None:
    pooled.init_worker(settings, True, True, drop_params(settings.dedup))
    try:
        prepared = pooled.prepare(item(1))
    finally:
        assert pooled._stages is not None
        pooled._stages.drafter.html.close()
        pooled._stages = None
    assert prepared.verdict is None
    assert prepared.canonical == (
        ("https://News.example/harbour/1?utm_source=feed", "news.example/harbour/1"),
        ("g1", None),
    )


def test_prepare_needs_an_initialised_worker() -> None:
    with pytest.raises(RuntimeError, match="init_worker"):
        pooled.prepare(item(1))
