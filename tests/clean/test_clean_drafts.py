"""The clean stage in two halves: a stateless draft (workers) finished with the template."""

from __future__ import annotations

from pathlib import Path

from monitor.clean import Cleaner
from monitor.clean.drafts import Draft, Drafter
from monitor.config import CleanSettings
from monitor.model import Article, Origin, RawItem, Rejected

CONFIG = Path(__file__).resolve().parents[2] / "config"
FOOTER = "Our journalists work around the clock to bring you the news from the harbour"


def items() -> list[RawItem]:
    """Text dumps of one source sharing a footer (it becomes template), entries, bad input."""
    body = (
        "The General Staff reported {n} clashes along the front line on Tuesday, and said "
        "that the situation near Pokrovsk remained the most difficult of the day."
    )
    out = [
        RawItem(input_id=f"t{n}", source="site", text=f"{body.format(n=n)}\n{FOOTER}")
        for n in range(6)
    ]
    out += [
        RawItem(
            input_id=f"e{n}",
            source="feed",
            title=f"Entry {n}: the council met &amp; voted",
            html=f"<p>The council voted {n} times on the budget.</p>",
            origin=Origin.ENTRY,
        )
        for n in range(3)
    ]
    out += [
        RawItem(input_id="empty", source="site"),
        RawItem(input_id="nul", source="site", text="binary\x00content " * 20),
        RawItem(input_id="entry-no-text", source="feed", origin=Origin.ENTRY),
    ]
    return out


def test_clean_is_finish_of_the_draft_made_elsewhere() -> None:
    """A draft made by another Drafter (as in a worker) finishes to what clean() gives."""
    settings = CleanSettings()
    with (
        Cleaner.from_settings(settings, CONFIG) as whole,
        Cleaner.from_settings(settings, CONFIG) as main,
    ):
        worker = Drafter(main.phrases, settings, main.html)
        for raw in items():
            assert main.finish(raw, worker.draft(raw)) == whole.clean(raw), raw.input_id
        assert main.templates.template_lines("site") == whole.templates.template_lines("site") > 0


def test_the_draft_keeps_the_template_lines_the_finish_removes() -> None:
    with Cleaner.from_settings(CleanSettings(), CONFIG) as cleaner:
        raws = [r for r in items() if r.source == "site" and r.text and "\x00" not in r.text]
        drafts = [cleaner.drafts.draft(r) for r in raws]
        assert all(isinstance(d, Draft) and FOOTER in d.text for d in drafts)
        finished = [cleaner.finish_with(r, d) for r, d in zip(raws, drafts, strict=True)]
    # The footer is template from the fourth item on: those articles differ from their drafts.
    assert [used for _, used in finished] == ["draft"] * 3 + [None] * 3
    assert all(isinstance(a, Article) for a, _ in finished)
    assert [FOOTER in a.text for a, _ in finished if isinstance(a, Article)] == [True] * 3 + [
        False
    ] * 3


def test_a_rejected_draft_is_the_items_rejection() -> None:
    with Cleaner.from_settings(CleanSettings(), CONFIG) as cleaner:
        raw = RawItem(input_id="empty", source="site")
        draft = cleaner.drafts.draft(raw)
        assert isinstance(draft, Rejected)
        assert cleaner.finish_with(raw, draft) == (draft, None)
        assert draft.error == "empty item: no text and no HTML"


def test_an_entrys_page_too_short_after_its_template_falls_back_to_the_entry() -> None:
    """The page's length is known only after the template: the draft carries the entry."""
    settings = CleanSettings(min_chars=120)
    chrome = "Site chrome of the outlet with its menu, its links and its search form here"
    own = "The harbour reopened on Monday after repairs, the port authority said today."
    with Cleaner.from_settings(settings, CONFIG) as cleaner:
        for n in range(4):  # the chrome line becomes this source's template
            text = f"Article {n} about the harbour, with sentences of its own to read.\n{chrome}"
            cleaner.clean(RawItem(input_id=f"p{n}", source="outlet", text=text))
        page = f"<html><body><article><p>{own}</p><p>{chrome}</p></article></body></html>"
        raw = RawItem(
            input_id="entry",
            source="outlet",
            title="Harbour reopens",
            html=page,
            origin=Origin.ENTRY,
            meta={"feed_content": "The harbour reopened.", "feed_content_type": "text"},
        )
        draft = cleaner.drafts.draft(raw)
        assert isinstance(draft, Draft) and isinstance(draft.fallback, Draft)
        assert len(draft.text) >= 120  # long enough as drafted
        article, used = cleaner.finish_with(raw, draft)
    assert used == "fallback"
    assert isinstance(article, Article)
    assert article.text == "The harbour reopened."
    [warning] = article.meta["warnings"]
    assert warning.startswith("article page not used: too little text after cleaning")
