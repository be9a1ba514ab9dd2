"""Learned templates: lines repeated across items of one source, never on an item's own evidence."""

from __future__ import annotations

from monitor.clean import Cleaner, TemplateStore
from monitor.model import Article, RawItem

FOOTER = "Our journalists work around the clock to bring you the news from the front"


def test_line_becomes_template_after_min_count_other_items() -> None:
    store = TemplateStore(min_count=2, max_lines=1000)
    for n in range(2):
        kept, removed = store.strip("unn", [f"story {n}", FOOTER])
        assert removed == []
        store.learn("unn", f"item {n}", [f"story {n}", FOOTER])
    kept, removed = store.strip("unn", ["story 3", FOOTER])
    assert kept == ["story 3"]
    assert [(r.rule, r.text) for r in removed] == [("template", FOOTER)]
    # Another source has not learned it.
    assert store.strip("kyivindependent", ["story 3", FOOTER])[1] == []


def test_own_repeats_and_duplicate_items_do_not_count() -> None:
    store = TemplateStore(min_count=2, max_lines=1000)
    store.learn("unn", "item 1", [FOOTER, FOOTER, FOOTER])
    store.learn("unn", "item 1", [FOOTER])  # the same item again
    assert store.strip("unn", [FOOTER])[1] == []
    assert store.template_lines("unn") == 0


def test_memory_is_bounded() -> None:
    store = TemplateStore(min_count=2, max_lines=100)
    for n in range(300):
        store.learn("s", f"item {n}", [f"unique line {n}", FOOTER])
    assert store.template_lines("s") == 1
    assert store.strip("s", [FOOTER])[0] == []


def test_memory_is_bounded_over_all_sources() -> None:
    """With thousands of feeds the per-source cap is no bound: the total is capped too."""
    store = TemplateStore(min_count=2, max_lines=100, max_total=400)
    for src in range(200):
        for n in range(3):
            store.learn(f"feed{src}", f"item {n}", [f"line {src}-{n}", FOOTER])
        assert store.total_lines() <= 400
    # The sources that learned last keep their template; the first ones were forgotten.
    assert store.template_lines("feed199") == 1
    assert store.template_lines("feed0") == 0
    # A source that keeps learning is not forgotten for others that come and go.
    store.learn("feed0", "item 9", [FOOTER])
    assert store.template_lines("feed0") == 0  # starts over: one item seen
    for src in range(200, 400):
        store.learn("feed199", f"again {src}", [f"fresh {src}", FOOTER])
        store.learn(f"feed{src}", "item 0", [f"line {src}", FOOTER])
    assert store.template_lines("feed199") == 1


def test_cleaner_strips_source_template(cleaner: Cleaner) -> None:
    body = (
        "The General Staff reported {n} clashes along the front line on Tuesday, and said "
        "that the situation near Pokrovsk remained the most difficult of the day."
    )
    results = []
    for n in range(5):
        raw = RawItem(
            input_id=f"t{n}", source="template-test", text=f"{body.format(n=n)}\n{FOOTER}"
        )
        results.append(cleaner.clean(raw))
    assert all(isinstance(r, Article) for r in results)
    assert [FOOTER in r.text for r in results if isinstance(r, Article)] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_updated_copies_of_one_article_are_not_stripped_as_template(cleaner: Cleaner) -> None:
    body = [
        "Ukrainian forces said on Tuesday that they had engaged North Korean units in Kursk.",
        "The General Staff said the clashes were small and that more were expected this week.",
        "Seoul said it was checking the reports with its allies and would respond in due course.",
    ]
    for n in range(5):
        update = f"Update {n}: officials gave a new count of {n * 10} soldiers."
        raw = RawItem(input_id=f"u{n}", source="updates", text="\n".join([*body, update]))
        article = cleaner.clean(raw)
        assert isinstance(article, Article)
        assert all(line in article.text for line in body)
