"""Test helper: the seed dumps as articles, with the obvious site chrome stripped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor.config import load_settings
from monitor.filters import RelevanceFilter
from monitor.model import Article, stable_id

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
CHROME = (
    "Read also",
    "LEAVE A",
    "Please enter",
    "The reCAPTCHA",
    "More Articles",
    "Your email",
    "› Subscribe",
    "Update Information",
    "Source for News",
)


def seed_article(path: Path, fetched: datetime | None = None) -> Article:
    """Read one seed: first line of prose is the title, lines of 8+ words the body."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(CHROME) and not ln.startswith("- ")]
    prose = [ln for ln in lines if len(ln.split()) >= 8]
    title = prose[0].removeprefix("date ").strip()
    body = "\n".join(dict.fromkeys(prose[1:]))  # titles repeated in the dump appear once
    return Article(
        item_id=stable_id(path.name),
        input_id=path.name,
        source=path.stem,
        title=title,
        text=body,
        url=f"https://news.example/{path.stem}",
        fetched=fetched or datetime(2024, 11, 6, 12, 0, tzinfo=UTC),
    )


def default_topic() -> tuple[str, ...]:
    """The topic words the default config's rules give the story layer."""
    settings = load_settings()
    relevance = RelevanceFilter.from_settings(
        settings.filters, settings.config_dir, settings.config_file
    )
    return relevance.topic_forms()


def seed_articles() -> list[Article]:
    """All five seeds, in file order."""
    return [seed_article(p) for p in sorted(SEEDS.glob("*.txt"))]
